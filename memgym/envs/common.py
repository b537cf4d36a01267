"""What both environments share: dataset resolution, slot observations, metrics by name."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from memgym.agents.base import RetrievedMemory
from memgym.data.errata import Errata, apply_errata, load_errata
from memgym.data.loading import load_dataset
from memgym.data.schema import Dataset
from memgym.metrics.protocols import METRICS, QuestionMetric
from memgym.tokens import count_tokens

_WARNED: set[str] = set()


class InvalidActionError(ValueError):
    """Raised instead of a penalty when an env is created with `strict=True`."""


def resolve_dataset(
    dataset: str | Dataset,
    data: str | Path | None,
    split: str,
    include_adversarial: bool = False,
    errata: str | Path | Errata | None = None,
) -> Dataset:
    """A loaded split from a name (+ path) or a Dataset, with `errata` applied (an errata file
    in the LoCoMo audit's schema, read in exclude mode, or `load_errata(path, mode)`). Warns
    once about the bundled sample, and once per source about data warnings."""
    if isinstance(dataset, Dataset):
        return _with_errata(dataset, errata)
    name = "locomo" if dataset == "sample" else dataset
    if data is None and "sample" not in _WARNED:
        _WARNED.add("sample")
        warnings.warn(
            f"memgym: using the bundled {name} sample, split {split!r}; pass data=PATH (e.g. "
            "locomo10.json, see `memgym data fetch`) for the real benchmark",
            stacklevel=3,
        )
    loaded = load_dataset(name, data, split, include_adversarial=include_adversarial)
    if loaded.warnings and loaded.source not in _WARNED:
        _WARNED.add(loaded.source)
        warnings.warn(
            f"memgym: {len(loaded.warnings)} data warnings in {loaded.source} (repaired or "
            "skipped; see dataset.warnings; load_dataset(..., strict=True) refuses them)",
            stacklevel=3,
        )
    return _with_errata(loaded, errata)


def _with_errata(dataset: Dataset, errata: str | Path | Errata | None) -> Dataset:
    if errata is None:
        return dataset
    return apply_errata(dataset, errata if isinstance(errata, Errata) else load_errata(errata))


def iso(time: datetime | None) -> str:
    return "" if time is None else time.isoformat()


def slots_observation(
    memories: Sequence[RetrievedMemory], k: int, sizes: bool = False
) -> dict[str, Any]:
    """Fixed-size slot view of retrieved memories (empty strings and mask 0 for empty slots);
    with `sizes`, each memory's size in tokens."""
    shown = list(memories[:k])
    pad = k - len(shown)
    mask = np.zeros(k, dtype=np.int8)
    mask[: len(shown)] = 1
    slots = {
        "texts": tuple([m.text for m in shown] + [""] * pad),
        "speakers": tuple([m.namespace for m in shown] + [""] * pad),
        "times": tuple([iso(m.time) for m in shown] + [""] * pad),
        "mask": mask,
    }
    if sizes:
        slots["tokens"] = np.array([count_tokens(m.text) for m in shown] + [0] * pad, np.int64)
    return slots


# "f1" is the dataset's own scorer (LoCoMo's per-category rules); the rest as in memgym.metrics.
REWARD_METRICS: dict[str, QuestionMetric] = {**METRICS, "f1": METRICS["locomo_f1"]}


def metric_fn(metric: str | QuestionMetric) -> QuestionMetric:
    """A reward metric by name (exact_match, f1, locomo_f1, mem0_f1, bleu1) or a callable."""
    if callable(metric):
        return metric
    if metric not in REWARD_METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(REWARD_METRICS)}")
    return REWARD_METRICS[metric]
