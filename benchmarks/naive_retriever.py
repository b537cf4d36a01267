"""The naive retriever the benchmarks compare against: rank-bm25 rebuilt after every write,
numpy brute-force cosine over a matrix re-stacked after every write, fused by RRF."""

from __future__ import annotations

from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi

from memgym.retrieval.embedding_cache import EmbeddingCache
from memgym.retrieval.tokenizer import tokenize


class NaiveHybridRetriever:
    """What a first implementation does: recompute everything on every write."""

    name = "naive-hybrid"

    def __init__(self, cache: EmbeddingCache) -> None:
        self.cache = cache
        self.texts: dict[str, dict[str, str]] = {}
        self.built: dict[str, tuple[list[str], BM25Okapi | None, np.ndarray]] = {}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def _rebuild(self, namespace: str) -> None:
        texts = self.texts.get(namespace, {})
        ids = list(texts)
        bm25 = BM25Okapi([tokenize(texts[i]) for i in ids]) if ids else None
        self.built[namespace] = (ids, bm25, self.cache.vectors([texts[i] for i in ids]))

    def add(self, entry_id: str, text: str, namespace: str) -> None:
        self.texts.setdefault(namespace, {})[entry_id] = text
        self._rebuild(namespace)

    def update(self, entry_id: str, text: str, namespace: str) -> None:
        self.add(entry_id, text, namespace)

    def remove(self, entry_id: str, namespace: str) -> None:
        del self.texts[namespace][entry_id]
        self._rebuild(namespace)

    def load(self, texts: dict[str, str], namespace: str) -> None:
        """Set a namespace's whole corpus and build it once (the baseline's bulk build)."""
        self.texts[namespace] = dict(texts)
        self._rebuild(namespace)

    def lexical_ranking(self, query: str, k: int, namespace: str) -> list[str]:
        """rank-bm25 scores of every document, sorted."""
        ids, bm25, _ = self.built.get(namespace, ([], None, None))
        if bm25 is None:
            return []
        return [ids[i] for i in np.argsort(-bm25.get_scores(tokenize(query)), kind="stable")[:k]]

    def dense_ranking(self, query: str, k: int, namespace: str) -> list[str]:
        """Brute-force cosine over the re-stacked matrix, sorted."""
        ids, _, matrix = self.built.get(namespace, ([], None, None))
        if not ids:
            return []
        return [ids[i] for i in np.argsort(-(matrix @ self.cache.vector(query)), kind="stable")[:k]]

    def search(self, query: str, k: int, namespace: str) -> list[tuple[str, float]]:
        fused: dict[str, float] = {}
        for ranking in (
            self.lexical_ranking(query, 50, namespace),
            self.dense_ranking(query, 50, namespace),
        ):
            for rank, entry_id in enumerate(ranking, start=1):
                fused[entry_id] = fused.get(entry_id, 0.0) + 1 / (60 + rank)
        best = sorted(fused, key=lambda d: -fused[d])[:k]
        return [(entry_id, fused[entry_id]) for entry_id in best]

    def snapshot(self) -> Any:
        return {ns: dict(t) for ns, t in self.texts.items()}

    def restore(self, snapshot: Any) -> None:
        self.texts = {ns: dict(t) for ns, t in snapshot.items()}
        for namespace in self.texts:
            self._rebuild(namespace)

    def clone(self) -> NaiveHybridRetriever:
        twin = NaiveHybridRetriever(self.cache)
        twin.restore(self.snapshot())
        return twin
