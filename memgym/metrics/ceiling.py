"""The ceiling wrong gold answers impose: what a perfect system scores against the original
golds when errata say some of them are wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memgym.data.schema import Dataset, Question
from memgym.metrics.aggregate import aggregate
from memgym.metrics.protocols import METRICS, ScoringProtocol


def original_gold_ceiling(
    dataset: Dataset, protocol: ScoringProtocol, metrics: Sequence[str] = tuple(METRICS)
) -> dict[str, Any] | None:
    """Per category and overall: the score of a system that answers every question rightly,
    scored against the golds of the source. Where the gold is right it scores 1 by definition;
    where the errata call it wrong (every error type but WRONG_CITATION) it answers the errata's
    `correct_answer` and gets what each metric gives that against the wrong gold. `right_golds`
    is the share of questions whose gold is right: what a perfect system gets from a judge that
    accepts only the gold's meaning. None when the dataset carries no errata."""
    if dataset.errata is None:
        return None
    changes = {c.question.id: c for c in dataset.errata.changes}
    originals: list[tuple[Question, str | None]] = []
    seen: set[str] = set()
    for question in dataset.questions():
        seen.add(question.id)
        change = changes.get(question.id)
        if change is None or change.error_type == "WRONG_CITATION":
            originals.append((question, None))
        else:
            originals.append((change.question, change.correct_answer))
    for change in dataset.errata.changes:  # questions the exclude mode dropped
        if change.question.id not in seen:
            originals.append((change.question, change.correct_answer))
    kept = [item for item in originals if item[0].category not in protocol.skip_categories]
    return ceiling_of(kept, metrics)


def ceiling_of(
    answered: Sequence[tuple[Question, str | None]], metrics: Sequence[str] = tuple(METRICS)
) -> dict[str, Any]:
    """The ceiling from (question with its original gold, the right answer where that gold is
    wrong, else None) pairs (see `original_gold_ceiling`)."""
    rows = [
        {
            "category": q.category,
            "scores": {
                **{m: 1.0 if answer is None else METRICS[m](answer, q) for m in metrics},
                "right_golds": 1.0 if answer is None else 0.0,
            },
        }
        for q, answer in answered
    ]
    summary = aggregate(rows, [*metrics, "right_golds"])
    return {
        "n_questions": summary["n_questions"],
        "overall": summary["overall"],
        "by_category": summary["by_category"],
    }
