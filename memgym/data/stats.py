"""Counts that describe a loaded split (for `memgym data stats` and sanity checks)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from memgym.data.schema import Dataset
from memgym.textsafe import numeric_order


def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    """Conversations, sessions, turns, facts and questions, with questions per raw category id."""
    by_category: Counter[str] = Counter(str(q.category) for q in dataset.questions())
    names = {str(q.category): q.category_name for q in dataset.questions()}
    return {
        "dataset": dataset.name,
        "variant": dataset.variant,
        "split": dataset.split,
        "content_hash": dataset.content_hash,
        "include_adversarial": dataset.include_adversarial,
        "conversations": len(dataset.conversations),
        "sessions": sum(len(c.sessions) for c in dataset.conversations),
        "turns": sum(len(s.turns) for c in dataset.conversations for s in c.sessions),
        "facts": sum(len(c.facts) for c in dataset.conversations),
        "questions": sum(by_category.values()),
        "abstention_questions": sum(q.abstention for q in dataset.questions()),
        "questions_by_category": dict(sorted(by_category.items(), key=_category_order)),
        "category_names": dict(sorted(names.items(), key=_category_order)),
        "warnings": len(dataset.warnings),
    }


def _category_order(item: tuple[str, Any]) -> tuple[int, int, str]:
    return numeric_order(item[0])
