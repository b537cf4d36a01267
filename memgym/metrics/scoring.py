"""Score a set of predictions against a dataset split under a protocol."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from memgym.data.problems import ProblemLog
from memgym.data.schema import Dataset, Question
from memgym.metrics.aggregate import aggregate
from memgym.metrics.judge import ChatClient, judge_answer
from memgym.metrics.protocols import METRICS, ScoringProtocol


def score_question(
    protocol: ScoringProtocol,
    question: Question,
    prediction: str,
    judge_client: ChatClient | None = None,
) -> dict[str, Any]:
    """One result row: the question, the prediction and every metric of the protocol."""
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
    if protocol.judge is not None and judge_client is not None:
        verdict = judge_answer(
            protocol.judge,
            judge_client,
            question.text,
            # Never the adversarial answer: it is the trap, not the gold.
            "; ".join(question.answers),
            prediction,
            protocol.judge_category(question),
        )
        scores["judge"] = verdict.score
        row["judge"] = {
            "correct": verdict.correct,
            "raw": verdict.raw,
            "reasoning": verdict.reasoning,
            "error": verdict.error,
        }
    return row


def score_predictions(
    dataset: Dataset,
    predictions: Mapping[str, str],
    protocol: ScoringProtocol,
    judge_client: ChatClient | None = None,
) -> dict[str, Any]:
    """Score every question of the split; a question without a prediction scores as empty and is
    listed under `missing_predictions`. Returns a JSON-ready report with its protocol and data."""
    rows = []
    missing = []
    for question in dataset.questions():
        if question.category in protocol.skip_categories:
            continue
        if question.id not in predictions:
            missing.append(question.id)
        row = score_question(protocol, question, predictions.get(question.id, ""), judge_client)
        row["missing"] = question.id not in predictions
        rows.append(row)
    known = {q.id for q in dataset.questions()}
    metrics = list(protocol.metrics)
    if protocol.judge is not None and judge_client is not None:
        metrics.append("judge")
    summary = aggregate(rows, metrics)
    summary["n_missing"] = len(missing)
    summary["judge_failures"] = sum(1 for r in rows if r.get("judge", {}).get("correct", 0) is None)
    return {
        "protocol": protocol.describe(),
        "dataset": dataset.fingerprint(),
        "summary": summary,
        "missing_predictions": missing,
        "unknown_predictions": sorted(set(predictions) - known),
        "questions": rows,
    }


def read_predictions(path: Path) -> dict[str, str]:
    """Read a JSONL of `{"question_id", "prediction"}`; DatasetError names the line and field."""
    log = ProblemLog(str(path))
    predictions: dict[str, str] = {}
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            record = f"line {n}"
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:  # bad UTF-8 and deep nesting included
                log.fail(record, None, f"invalid JSON: {getattr(exc, 'msg', type(exc).__name__)}")
                continue
            if log.check_type(obj, (dict,), record, "<root>") is None:
                continue
            qid = log.require(obj, "question_id", (str,), record, "question_id")
            prediction = log.require(obj, "prediction", (str, int, float), record, "prediction")
            if qid is None or prediction is None:
                continue
            if qid in predictions:
                log.fail(record, "question_id", f"duplicate prediction for {qid!r}")
            predictions[qid] = str(prediction)
    log.raise_if_any(strict=True)  # a submission is scored exactly as written, or not at all
    return predictions
