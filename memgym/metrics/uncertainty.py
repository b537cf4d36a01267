"""How sure a score is: bootstrap intervals, paired differences between runs, and the smallest
difference a category's size can detect.

Questions of one conversation are not independent (one bank answers all of them), so when rows
come from several conversations the bootstrap resamples conversations, then questions within
each resampled conversation; with a single conversation it can only resample questions, and the
result says so. Every resampling is seeded and its seed and count are recorded beside the
numbers, so an interval is as reproducible as the score it brackets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from memgym.textsafe import numeric_order

DEFAULT_SEED = 0
DEFAULT_RESAMPLES = 2000
CONFIDENCE = 0.95
ALPHA = 0.05
POWER = 0.80
CLUSTERED = "conversations, then questions within them"
QUESTIONS_ONLY = "questions only (a single conversation: no conversation-level variance)"


def resampling_weights(
    conversation_ids: Sequence[str], seed: int = DEFAULT_SEED, resamples: int = DEFAULT_RESAMPLES
) -> tuple[np.ndarray, str]:
    """A (resamples x rows) matrix of how often each row is drawn in each bootstrap replicate,
    and the scheme that drew it (see the module docstring)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    ids = list(conversation_ids)
    groups: dict[str, list[int]] = {}
    for i, cid in enumerate(ids):
        groups.setdefault(cid, []).append(i)
    weights = np.zeros((resamples, len(ids)))
    if len(groups) <= 1:
        if ids:
            weights[:] = rng.multinomial(len(ids), np.full(len(ids), 1 / len(ids)), size=resamples)
        return weights, QUESTIONS_ONLY
    members = list(groups.values())
    # Times each conversation is drawn; drawing one k times and resampling its n questions each
    # time draws k*n questions from it, uniformly: one multinomial per conversation.
    drawn = rng.multinomial(len(members), np.full(len(members), 1 / len(members)), size=resamples)
    for g, rows in enumerate(members):
        if len(rows) == 1:
            weights[:, rows[0]] = drawn[:, g]
        else:
            weights[:, rows] = rng.multinomial(
                drawn[:, g] * len(rows), np.full(len(rows), 1 / len(rows))
            )
    return weights, CLUSTERED


def _weighted_means(weights: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each replicate's mean of `values` over the rows in `mask` (NaN where it drew none)."""
    w = weights[:, mask]
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w @ values[mask]) / np.where(total > 0, total, 1), np.nan)


def _percentiles(replicates: np.ndarray) -> tuple[float, float]:
    tail = 100 * (1 - CONFIDENCE) / 2
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (math.nan, math.nan)
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def _groups(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Row masks: every category (by raw id as a string) and "overall"."""
    categories = np.array([str(r["category"]) for r in rows])
    keys = sorted(set(categories.tolist()), key=numeric_order)
    masks = {key: categories == key for key in keys}
    masks["overall"] = np.ones(len(rows), dtype=bool)
    return masks


def _scores(rows: Sequence[Mapping[str, Any]], metric: str) -> np.ndarray:
    return np.array([float(r["scores"].get(metric, math.nan)) for r in rows])


def bootstrap_intervals(
    rows: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, Any]:
    """95% percentile-bootstrap intervals of every score cell: `overall` and `by_category`, each
    metric as [low, high] (fractions, like the scores), with the seed, resample count and scheme.
    Rows need `conversation_id`, `category` and `scores`."""
    weights, scheme = resampling_weights([str(r["conversation_id"]) for r in rows], seed, resamples)
    cells: dict[str, dict[str, list[float] | None]] = {}
    for key, mask in _groups(rows).items():
        cells[key] = {}
        for metric in metrics:
            values = _scores(rows, metric)
            present = mask & np.isfinite(values)
            if not present.any():
                continue
            low, high = _percentiles(_weighted_means(weights, values, present))
            # None when no resample held the cell: result files hold no NaN.
            cells[key][metric] = None if math.isnan(low) else [low, high]
    overall = cells.pop("overall")
    return {
        "confidence": CONFIDENCE,
        "method": "percentile bootstrap",
        "resampled": scheme,
        "seed": seed,
        "resamples": resamples,
        "n_conversations": len({str(r["conversation_id"]) for r in rows}),
        "overall": overall,
        "by_category": cells,
    }


def paired_difference(
    rows_a: Sequence[Mapping[str, Any]],
    rows_b: Sequence[Mapping[str, Any]],
    metrics: Sequence[str],
    seed: int = DEFAULT_SEED,
    resamples: int = DEFAULT_RESAMPLES,
) -> dict[str, Any]:
    """Run A minus run B on the questions both scored, per category and overall, for each
    metric: the difference, its 95% paired-bootstrap interval (both runs resampled together),
    the two-sided bootstrap p-value of no difference, and the smallest difference this many
    questions can detect given the spread of the paired differences (80% power, alpha 0.05)."""
    by_id_b = {r["question_id"]: r for r in rows_b}
    pairs = [(a, by_id_b[a["question_id"]]) for a in rows_a if a["question_id"] in by_id_b]
    shared = [a for a, _ in pairs]
    weights, scheme = resampling_weights(
        [str(a["conversation_id"]) for a in shared], seed, resamples
    )
    cells: dict[str, dict[str, Any]] = {}
    for key, mask in _groups(shared).items():
        cells[key] = {"n": int(mask.sum())}
        for metric in metrics:
            a_scores = np.array([float(a["scores"].get(metric, math.nan)) for a, _ in pairs])
            b_scores = np.array([float(b["scores"].get(metric, math.nan)) for _, b in pairs])
            diff = a_scores - b_scores
            present = mask & np.isfinite(diff)
            if not present.any():
                continue
            observed = float(diff[present].mean())
            replicates = _weighted_means(weights, diff, present)
            cells[key][metric] = {
                "a": float(a_scores[present].mean()),
                "b": float(b_scores[present].mean()),
                "difference": observed,
                "interval": list(_percentiles(replicates)),
                "p_value": _p_value(replicates),
                "n": int(present.sum()),
                "minimum_detectable": minimum_detectable_difference(
                    int(present.sum()),
                    float(diff[present].std(ddof=1)) if present.sum() > 1 else 0.0,
                ),
            }
    overall = cells.pop("overall")
    return {
        "confidence": CONFIDENCE,
        "method": "paired percentile bootstrap; p-value: twice the smaller share of replicates "
        "on either side of zero (below 0.05 exactly when the 95% interval excludes zero)",
        "resampled": scheme,
        "seed": seed,
        "resamples": resamples,
        "n_shared": len(shared),
        "overall": overall,
        "by_category": cells,
    }


def _p_value(replicates: np.ndarray) -> float:
    """Two-sided, by inverting the percentile interval: twice the smaller share of replicates
    at or beyond zero on either side (add-one, so never exactly 0; at most 1). Unlike a test
    of the bootstrap distribution shifted to zero, it never disagrees with the interval when
    the differences are skewed."""
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return math.nan
    below = int((finite <= 0).sum())
    above = int((finite >= 0).sum())
    return float(min(1.0, 2 * (1 + min(below, above)) / (1 + finite.size)))


def minimum_detectable_difference(n: int, sd: float = 0.5 * math.sqrt(2)) -> float:
    """The smallest true difference in mean score a two-sided test at alpha 0.05 detects with
    80% power from `n` questions whose per-question differences have standard deviation `sd`.
    The default `sd` is the worst case for two independent runs of a 0/1 score (each at 50%):
    a bound from the category's size alone."""
    if n <= 0:
        return math.inf
    z = NormalDist().inv_cdf(1 - ALPHA / 2) + NormalDist().inv_cdf(POWER)
    return z * sd / math.sqrt(n)
