"""Aggregation of per-question scores: overall micro-average, per category, category-averaged."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from memgym.textsafe import numeric_order


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def aggregate(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, Any]:
    """Summarise rows (`category`, `abstention`, `scores`) for every metric.

    Returns `n_questions`; `overall` (micro-average over questions); `by_category` keyed by the
    raw category id as a string, each with `n`; `category_averaged` (mean of category means,
    LongMemEval's "task-averaged"); `abstention` (the abstention questions alone, if any).
    """
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row["category"])].append(row)

    def summary(subset: Sequence[Mapping[str, Any]]) -> dict[str, float]:
        return {m: _mean([r["scores"][m] for r in subset if m in r["scores"]]) for m in metrics}

    by_category = {
        key: {"n": len(groups[key]), **summary(groups[key])}
        for key in sorted(groups, key=numeric_order)
    }
    result: dict[str, Any] = {
        "n_questions": len(rows),
        "overall": summary(rows),
        "by_category": by_category,
        "category_averaged": {m: _mean([c[m] for c in by_category.values()]) for m in metrics},
    }
    abstention = [r for r in rows if r.get("abstention")]
    if abstention:
        result["abstention"] = {"n": len(abstention), **summary(abstention)}
    return result
