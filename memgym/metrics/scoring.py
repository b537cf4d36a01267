"""Score a set of predictions against a dataset split under a protocol."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memgym.data.loading import DATASETS
from memgym.data.problems import ProblemLog, preview
from memgym.data.schema import Dataset, Question
from memgym.data.splits import SPLITS
from memgym.errors import DatasetError, Problem
from memgym.metrics.aggregate import summarise
from memgym.metrics.judge import ChatClient, Judge, judge_answer
from memgym.metrics.protocols import METRICS, ScoringProtocol
from memgym.redaction import redact
from memgym.textsafe import valid_text


def score_question(
    protocol: ScoringProtocol,
    question: Question,
    prediction: str,
    judge_client: ChatClient | None = None,
    judges: Mapping[str, Judge] | None = None,
) -> dict[str, Any]:
    """One result row: the question, the prediction and every metric of the protocol; with a
    judge client, each of `judges` (default: the protocol's judge, as "judge") too."""
    scores = {name: METRICS[name](prediction, question) for name in protocol.metrics}
    row: dict[str, Any] = {
        "question_id": question.id,
        "conversation_id": question.conversation_id,
        "category": question.category,
        "abstention": question.abstention,
        "question": question.text,
        "gold": list(question.answers),
        "prediction": prediction,
        "scores": scores,
    }
    if judge_client is None:
        return row
    if judges is None:
        judges = {} if protocol.judge is None else {"judge": protocol.judge}
    details = {}
    for name, judge in judges.items():
        verdict = judge_answer(
            judge,
            judge_client,
            question.text,
            # Never the adversarial answer: it is the trap, not the gold.
            "; ".join(question.answers),
            prediction,
            protocol.judge_category(question),
        )
        scores[name] = verdict.score
        details[name] = {
            "correct": verdict.correct,
            "raw": redact(verdict.raw),
            "reasoning": verdict.reasoning,
            "error": verdict.error,
        }
    if details:
        row["judges"] = details
    return row


def score_predictions(
    dataset: Dataset,
    predictions: Mapping[str, str],
    protocol: ScoringProtocol,
    judge_client: ChatClient | None = None,
    judges: Mapping[str, Judge] | None = None,
) -> dict[str, Any]:
    """Score every question of the split; a question without a prediction scores as empty and is
    listed under `missing_predictions`. With a judge client, `judges` grade every answer (by
    default the protocol's judge, as "judge"). Returns a JSON-ready report with its protocol,
    its judges and its data."""
    rows = []
    missing = []
    for question in dataset.questions():
        if question.category in protocol.skip_categories:
            continue
        if question.id not in predictions:
            missing.append(question.id)
        row = score_question(
            protocol, question, predictions.get(question.id, ""), judge_client, judges
        )
        row["missing"] = question.id not in predictions
        rows.append(row)
    known = {q.id for q in dataset.questions()}
    metrics = list(protocol.metrics)
    if judge_client is not None:
        if judges is None:
            judges = {} if protocol.judge is None else {"judge": protocol.judge}
        metrics += list(judges)
    summary = summarise(rows, metrics)
    summary["n_missing"] = len(missing)
    summary["judge_failures"] = sum(
        verdict["correct"] is None for r in rows for verdict in r.get("judges", {}).values()
    )
    return {
        "protocol": {
            **protocol.describe(),
            "judges": {name: judge.describe() for name, judge in (judges or {}).items()},
        },
        "dataset": dataset.fingerprint(),
        "summary": summary,
        "missing_predictions": missing,
        "unknown_predictions": sorted(set(predictions) - known),
        "questions": rows,
    }


PREDICTIONS_HEADER = "memgym.predictions"


def read_predictions(path: Path) -> tuple[dict[str, str], dict[str, Any] | None]:
    """A JSONL of `{"question_id", "prediction"}` and its header line, if it has one (files
    written by `memgym eval` name their dataset in `{"format": "memgym.predictions", ...}`);
    DatasetError names the line and field of anything else."""
    log = ProblemLog(str(path))
    predictions: dict[str, str] = {}
    header: dict[str, Any] | None = None
    try:
        lines = path.read_bytes().split(b"\n")  # JSON may hold a bare \r as whitespace
    except OSError as exc:
        raise DatasetError(
            [Problem(str(path), None, None, f"cannot read: {exc.strerror or exc}")]
        ) from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        record = f"line {n}"
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # bad UTF-8 and deep nesting included
            log.fail(record, None, f"invalid JSON: {getattr(exc, 'msg', type(exc).__name__)}")
            continue
        if n == 1 and isinstance(obj, dict) and obj.get("format") == PREDICTIONS_HEADER:
            header = _check_header(obj, record, log)
            continue
        if log.check_type(obj, (dict,), record, "<root>") is None:
            continue
        qid = log.require(obj, "question_id", (str,), record, "question_id")
        prediction = log.require(obj, "prediction", (str, int, float), record, "prediction")
        if qid is None or prediction is None:
            continue
        qid = valid_text(qid, f"{path}: {record}: field 'question_id'")
        if qid in predictions:
            log.fail(record, "question_id", f"duplicate prediction for {preview(qid)}")
        predictions[qid] = valid_text(str(prediction), f"{path}: {record}: field 'prediction'")
    log.raise_if_any(strict=True)  # a submission is scored exactly as written, or not at all
    return predictions, header


_HEADER_FIELDS: dict[str, tuple[type, ...]] = {
    "dataset": (str,),
    "data": (str, type(None)),
    "split": (str,),
    "include_adversarial": (bool,),
    "content_hash": (str, type(None)),
}


def _check_header(obj: dict[str, Any], record: str, log: ProblemLog) -> dict[str, Any]:
    """The header's fields that name what the file answers, each checked: a header pointing at
    an unknown dataset or split, or with a number for a path, is refused, never guessed at."""
    header: dict[str, Any] = {}
    for key, types in _HEADER_FIELDS.items():
        if key in obj and log.check_type(obj[key], types, record, key) is not None:
            value = obj[key]
            where = f"{log.file}: {record}: field {key!r}"
            header[key] = valid_text(value, where) if isinstance(value, str) else value
    choices = {"dataset": (*DATASETS, "sample"), "split": SPLITS}
    for key, valid in choices.items():
        if key in header and header[key] not in valid:
            log.fail(record, key, f"{preview(header[key])} is not one of {', '.join(valid)}")
            del header[key]
    return header
