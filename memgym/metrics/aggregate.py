"""Aggregation of per-question scores: overall micro-average, per category, category-averaged."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from memgym.metrics.uncertainty import bootstrap_intervals, minimum_detectable_difference
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


def summarise(rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]) -> dict[str, Any]:
    """Scores per category and overall (floats, as tables read them), each cell's 95% bootstrap
    interval (`intervals`) and each category's minimum detectable difference from its size."""
    summary = aggregate(rows, metrics)
    summary["intervals"] = bootstrap_intervals(rows, metrics)
    summary["minimum_detectable"] = {
        "power": 0.8,
        "alpha": 0.05,
        "assumes": "two independent runs of a 0/1 score at 50% (the worst case); paired "
        "comparisons (memgym report) detect less",
        "overall": minimum_detectable_difference(summary["n_questions"])
        if summary["n_questions"]
        else None,
        "by_category": {
            key: minimum_detectable_difference(row["n"])
            for key, row in summary["by_category"].items()
        },
    }
    return summary
