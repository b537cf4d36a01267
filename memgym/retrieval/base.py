"""The retriever protocol every index implements, and deterministic ranking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

import numpy as np

Hit = tuple[str, float]
"""A search result: (memory id, score), higher scores first. A plain tuple: searches sit on the
env's hot path, and tuples are the cheapest record Python builds."""


@runtime_checkable
class Retriever(Protocol):
    """An index over memory texts, kept in step with the bank by add/update/remove.

    `search` returns at most k hits of one namespace, best first, ties broken by insertion order
    so that the same index state and query always give the same ranking. `snapshot()` returns an
    opaque value that `restore()` can bring back any number of times.
    """

    name: str

    def add(self, entry_id: str, text: str, namespace: str) -> None: ...

    def update(self, entry_id: str, text: str, namespace: str) -> None: ...

    def remove(self, entry_id: str, namespace: str) -> None: ...

    def search(self, query: str, k: int, namespace: str) -> list[Hit]: ...

    def snapshot(self) -> Any: ...

    def restore(self, snapshot: Any) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    def clone(self) -> Retriever:
        """An independent retriever with the same configuration and index state."""
        ...


def top_indices(scores: np.ndarray, seqs: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores, ties by lower sequence; every tie at the cut-off counts."""
    n = len(scores)
    candidates = np.arange(n)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        candidates = np.flatnonzero(scores >= kth)
    order = np.lexsort((seqs[candidates], -scores[candidates]))
    return candidates[order][:k]


def hits(ids: list[str], scores: list[float]) -> list[Hit]:
    """Hits from parallel lists."""
    return list(zip(ids, scores, strict=True))


def top_k(scored: Iterable[tuple[float, int, str]], k: int) -> list[Hit]:
    """Best k of (score, insertion order, id): higher score first, then earlier insertion."""
    ranked = sorted(scored, key=lambda t: (-t[0], t[1]))[:k]
    return [(entry_id, score) for score, _, entry_id in ranked]
