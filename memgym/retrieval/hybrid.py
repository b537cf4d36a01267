"""Hybrid retrieval: weighted reciprocal-rank fusion of a lexical and a dense retriever."""

from __future__ import annotations

from typing import Any

from memgym.retrieval.base import Hit, Retriever, top_k


class HybridRetriever:
    """score(d) = sum over retrievers r of weight_r / (rrf_k + rank_r(d)), ranks from 1.

    Each retriever contributes its best `max(k, candidates)` hits; ties go to the earlier memory.
    """

    name = "hybrid"

    def __init__(
        self,
        lexical: Retriever,
        dense: Retriever,
        weights: tuple[float, float] = (1.0, 1.0),
        rrf_k: int = 60,
        candidates: int = 50,
    ) -> None:
        if rrf_k < 0 or candidates <= 0 or min(weights) < 0:
            raise ValueError("rrf_k >= 0, candidates > 0 and non-negative weights are required")
        self.lexical, self.dense = lexical, dense
        self.weights, self.rrf_k, self.candidates = weights, rrf_k, candidates
        self._order: dict[str, int] = {}
        self._counter = 0

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weights": list(self.weights),
            "rrf_k": self.rrf_k,
            "candidates": self.candidates,
            "lexical": self.lexical.describe(),
            "dense": self.dense.describe(),
        }

    def add(self, entry_id: str, text: str, namespace: str) -> None:
        self.lexical.add(entry_id, text, namespace)
        self.dense.add(entry_id, text, namespace)
        self._counter += 1
        self._order[entry_id] = self._counter

    def update(self, entry_id: str, text: str, namespace: str) -> None:
        self.lexical.update(entry_id, text, namespace)
        self.dense.update(entry_id, text, namespace)

    def remove(self, entry_id: str, namespace: str) -> None:
        self.lexical.remove(entry_id, namespace)
        self.dense.remove(entry_id, namespace)
        del self._order[entry_id]

    def search(self, query: str, k: int, namespace: str) -> list[Hit]:
        if k <= 0:
            return []
        n = max(k, self.candidates)
        fused: dict[str, float] = {}
        for weight, retriever in zip(self.weights, (self.lexical, self.dense), strict=True):
            for rank, (entry_id, _) in enumerate(retriever.search(query, n, namespace), start=1):
                fused[entry_id] = fused.get(entry_id, 0.0) + weight / (self.rrf_k + rank)
        return top_k(((s, self._order[d], d) for d, s in fused.items()), k)

    def clone(self) -> HybridRetriever:
        twin = HybridRetriever(
            self.lexical.clone(), self.dense.clone(), self.weights, self.rrf_k, self.candidates
        )
        twin._order, twin._counter = dict(self._order), self._counter
        return twin

    def snapshot(self) -> Any:
        return (self.lexical.snapshot(), self.dense.snapshot(), dict(self._order), self._counter)

    def restore(self, snapshot: Any) -> None:
        lexical, dense, order, counter = snapshot
        self.lexical.restore(lexical)
        self.dense.restore(dense)
        self._order, self._counter = dict(order), counter
