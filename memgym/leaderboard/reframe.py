"""Recorded runs seen on other terms, without running anything again: on the questions every
run shares (`memgym report --shared-questions`), or with errata applied to their golds
(`memgym report --errata`). Scores are recomputed from the per-question rows each results.json
holds, and the summary (intervals included) is rebuilt from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from memgym.data.categories import LOCOMO_CATEGORY_NAMES
from memgym.data.errata import Errata, ErrataEntry, errata_content_hash, no_match
from memgym.data.problems import preview
from memgym.data.schema import Question
from memgym.errors import DatasetError, Problem
from memgym.leaderboard.html import ReportError, Run
from memgym.leaderboard.results import JUDGE_SCORES
from memgym.metrics.aggregate import summarise
from memgym.metrics.ceiling import ceiling_of
from memgym.metrics.protocols import METRICS
from memgym.textsafe import numeric_order


def _rows(run: Run) -> list[dict[str, Any]]:
    rows = run.results.get("questions")
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and isinstance(r.get("question_id"), str) and "scores" in r
        for r in rows
    ):
        raise ReportError(
            f"{run.folder}/results.json holds no per-question rows (`questions`): it cannot be "
            "compared question by question"
        )
    return rows


def with_rows(run: Run, rows: list[dict[str, Any]], **subset: Any) -> Run:
    """`run` with these rows: its summary recomputed (scores, intervals, MDD) and its subset
    updated."""
    results = dict(run.results)
    metrics = [m for m in results["summary"]["overall"] if any(m in r["scores"] for r in rows)]
    summary = summarise(rows, metrics)
    if {"judge", "judge_strict"} <= set(summary["overall"]):
        summary["judge_gap"] = summary["overall"]["judge"] - summary["overall"]["judge_strict"]
    results["summary"] = summary
    results["questions"] = rows
    categories = sorted({str(r["category"]) for r in rows}, key=numeric_order)
    results["subset"] = {
        **results["subset"],
        "n_questions": len(rows),
        "categories": categories,
        **subset,
    }
    return replace(run, results=results)


def shared_questions(runs: Sequence[Run]) -> tuple[list[Run], dict[str, Any]]:
    """Every run restricted to the questions all of them scored, and what was shared: the count,
    and each run's own count. ReportError when they share none."""
    rows = [_rows(run) for run in runs]
    shared = set.intersection(*({r["question_id"] for r in rs} for rs in rows))
    note = {
        "n_shared": len(shared),
        "n_per_run": {str(run.folder): len(rs) for run, rs in zip(runs, rows, strict=True)},
    }
    if not shared:
        raise ReportError(
            "the runs share no question id: "
            + ", ".join(f"{run.folder} has {len(rs)}" for run, rs in zip(runs, rows, strict=True))
        )
    restricted = [
        with_rows(
            run,
            [r for r in rs if r["question_id"] in shared],
            shared_questions=len(shared),
        )
        for run, rs in zip(runs, rows, strict=True)
    ]
    return restricted, note


def apply_errata_to_run(run: Run, errata: Errata) -> Run:
    """`run` scored as if its golds had the errata: `exclude` drops score-corrupting questions,
    `correct` rescores every lexical metric against the corrected answer. Judge verdicts were
    given against the old golds, so `correct` drops the judge columns. DatasetError names an
    entry whose question text differs from the run's; a run that already applied other errata
    is a ReportError."""
    recorded = run.results.get("errata")
    if recorded:
        if recorded.get("sha256") == errata.sha256 and recorded.get("mode") == errata.mode:
            return run
        raise ReportError(
            f"{run.folder} was evaluated with other errata ({recorded.get('mode')} mode, sha256 "
            f"{str(recorded.get('sha256'))[:12]}); errata apply to a run's original golds"
        )
    rows = _rows(run)
    by_id = {e.question_id: e for e in errata.entries}
    problems: list[Problem] = []
    matched: dict[str, ErrataEntry] = {}
    for row in rows:
        entry = by_id.get(row["question_id"])
        if entry is None:
            continue
        question = str(row.get("question", ""))
        if " ".join(question.split()) != " ".join(entry.question.split()):
            problems.append(
                entry.problem(
                    "question",
                    f"does not match {row['question_id']} of {run.folder}: errata "
                    f"{preview(entry.question)}, run {preview(question)}",
                )
            )
        matched[row["question_id"]] = entry
    if problems:
        raise DatasetError(problems)
    if not matched:
        raise no_match(errata, str(run.folder))
    new_rows: list[dict[str, Any]] = []
    affected: dict[str, int] = {}
    for row in rows:
        entry = matched.get(row["question_id"])
        if entry is not None and (errata.mode == "correct" or entry.score_corrupting):
            key = str(row["category"])
            affected[key] = affected.get(key, 0) + 1
        if entry is None:
            new_rows.append(_without_judges(row) if errata.mode == "correct" else row)
        elif errata.mode == "correct":
            new_rows.append(_rescored(row, entry))
        elif not entry.score_corrupting:
            new_rows.append(row)
    data_hash = run.results["subset"]["content_hash"]
    reframed = with_rows(
        run,
        new_rows,
        content_hash=errata_content_hash(data_hash, errata),
        errata={"sha256": errata.sha256, "mode": errata.mode},
    )
    reframed.results["errata"] = {
        "source": errata.source,
        "sha256": errata.sha256,
        "mode": errata.mode,
        "data_hash": data_hash,
        "flagged": len(matched),
        "affected": sum(affected.values()),
        "affected_by_category": dict(sorted(affected.items())),
        "entries_outside_dataset": len(errata.entries) - len(matched),
        "ceiling": ceiling_of(
            [_original(row, matched.get(row["question_id"])) for row in rows],
            [m for m in METRICS if m in run.results["summary"]["overall"]],
        ),
        "applied_by": "memgym report (rescored from the recorded predictions)",
    }
    return reframed


def _question(row: dict[str, Any], answers: Sequence[str]) -> Question:
    category = row["category"]
    return Question(
        id=row["question_id"],
        conversation_id=str(row.get("conversation_id", "")),
        text=str(row.get("question", "")),
        answers=tuple(answers),
        category=category,
        category_name=LOCOMO_CATEGORY_NAMES.get(category, str(category))
        if isinstance(category, int)
        else str(category),
        abstention=bool(row.get("abstention", False)),
    )


def _original(row: dict[str, Any], entry: ErrataEntry | None) -> tuple[Question, str | None]:
    question = _question(row, [str(g) for g in row.get("gold", [])])
    if entry is None or not entry.score_corrupting:
        return question, None
    return question, entry.correct_answer


def _without_judges(row: dict[str, Any]) -> dict[str, Any]:
    scores = {k: v for k, v in row["scores"].items() if k not in JUDGE_SCORES}
    return {**row, "scores": scores}


def _rescored(row: dict[str, Any], entry: ErrataEntry) -> dict[str, Any]:
    question = _question(row, [entry.correct_answer])
    prediction = str(row.get("prediction", ""))
    scores = {
        m: METRICS[m](prediction, question) if m in METRICS else v
        for m, v in row["scores"].items()
        if m not in JUDGE_SCORES
    }
    return {**row, "gold": [entry.correct_answer], "scores": scores, "errata": entry.error_type}
