"""Dense retrieval: embeddings from a cached embedder in an exact or an HNSW index per namespace.

`index="exact"` (default) searches all vectors with one matrix product: exact, deterministic,
and as fast as HNSW below about ten thousand memories. `index="hnsw"` uses hnswlib with
incremental add, `mark_deleted` and resize, one thread and a fixed seed (hnswlib is only
deterministic so). Either way k may exceed the number of live memories.
"""

from __future__ import annotations

import pickle
from typing import Any, Literal

import numpy as np

from memgym.retrieval.base import Hit, hits, top_indices
from memgym.retrieval.embedders import Embedder, make_embedder
from memgym.retrieval.embedding_cache import EmbeddingCache

IndexKind = Literal["exact", "hnsw"]


def _rank(ids: list[str], scores: np.ndarray, seqs: np.ndarray, k: int) -> list[Hit]:
    """Top k by score, ties by insertion order."""
    chosen = top_indices(scores, seqs, k)
    return hits([ids[i] for i in chosen.tolist()], scores[chosen].astype(np.float64).tolist())


class _ExactIndex:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.matrix = np.zeros((16, dim), dtype=np.float32)
        self.seqs = np.zeros(16, dtype=np.int64)
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}

    def add(self, entry_id: str, vector: np.ndarray, seq: int) -> None:
        n = len(self.ids)
        if n == len(self.matrix):
            self.matrix = np.concatenate([self.matrix, np.zeros_like(self.matrix)])
            self.seqs = np.concatenate([self.seqs, np.zeros_like(self.seqs)])
        self.matrix[n] = vector
        self.seqs[n] = seq
        self.ids.append(entry_id)
        self.rows[entry_id] = n

    def update(self, entry_id: str, vector: np.ndarray) -> None:
        self.matrix[self.rows[entry_id]] = vector

    def remove(self, entry_id: str) -> None:
        row = self.rows.pop(entry_id)
        last = len(self.ids) - 1
        if row != last:
            moved = self.ids[last]
            self.matrix[row] = self.matrix[last]
            self.seqs[row] = self.seqs[last]
            self.ids[row] = moved
            self.rows[moved] = row
        self.ids.pop()

    def search(self, query: np.ndarray, k: int) -> list[Hit]:
        n = len(self.ids)
        return _rank(self.ids, self.matrix[:n] @ query, self.seqs[:n], k)

    def snapshot(self) -> Any:
        n = len(self.ids)
        return (self.matrix[:n].copy(), self.seqs[:n].copy(), list(self.ids))

    @classmethod
    def from_snapshot(cls, dim: int, snapshot: Any) -> _ExactIndex:
        matrix, seqs, ids = snapshot
        index = cls(dim)
        capacity = max(16, len(ids))
        index.matrix = np.zeros((capacity, dim), dtype=np.float32)
        index.matrix[: len(ids)] = matrix
        index.seqs = np.zeros(capacity, dtype=np.int64)
        index.seqs[: len(ids)] = seqs
        index.ids = list(ids)
        index.rows = {entry_id: i for i, entry_id in enumerate(ids)}
        return index


class _HnswIndex:
    def __init__(self, dim: int, m: int, ef_construction: int, ef_search: int, seed: int) -> None:
        import hnswlib

        self.dim, self.ef_search = dim, ef_search
        self.index = hnswlib.Index(space="ip", dim=dim)
        self.index.init_index(
            max_elements=64, ef_construction=ef_construction, M=m, random_seed=seed
        )
        self.index.set_num_threads(1)
        self.labels: dict[str, int] = {}
        self.ids: dict[int, str] = {}
        self.seqs: dict[int, int] = {}

    def add(self, entry_id: str, vector: np.ndarray, seq: int) -> None:
        label = seq  # insertion counters never repeat, so they are safe labels
        if self.index.element_count >= self.index.get_max_elements():
            self.index.resize_index(2 * self.index.get_max_elements())
        self.index.add_items(vector[None, :], [label])
        self.labels[entry_id], self.ids[label], self.seqs[label] = label, entry_id, seq

    def update(self, entry_id: str, vector: np.ndarray) -> None:
        self.index.add_items(vector[None, :], [self.labels[entry_id]])

    def remove(self, entry_id: str) -> None:
        label = self.labels.pop(entry_id)
        self.index.mark_deleted(label)
        del self.ids[label], self.seqs[label]

    def search(self, query: np.ndarray, k: int) -> list[Hit]:
        k = min(k, len(self.labels))
        if k <= 0:
            return []
        self.index.set_ef(max(self.ef_search, 2 * k))
        try:
            labels, distances = self.index.knn_query(query[None, :], k=k)
        except RuntimeError:
            # Heavy deletion can leave the graph unable to return k results: search exactly.
            live = list(self.ids)
            vectors = np.asarray(self.index.get_items(live), dtype=np.float32)
            ids = [self.ids[label] for label in live]
            seqs = np.array([self.seqs[label] for label in live], dtype=np.int64)
            return _rank(ids, vectors @ query, seqs, k)
        found = [int(label) for label in labels[0]]
        ids = [self.ids[label] for label in found]
        scores = (1.0 - distances[0]).astype(np.float32)
        return _rank(ids, scores, np.array([self.seqs[label] for label in found]), k)

    def snapshot(self) -> Any:
        # The index is this process's own object, serialised in memory: no file is involved.
        return (pickle.dumps(self.index), dict(self.labels), dict(self.ids), dict(self.seqs))

    def restore(self, snapshot: Any) -> None:
        blob, labels, ids, seqs = snapshot
        self.index = pickle.loads(blob)
        self.index.set_num_threads(1)
        self.labels, self.ids, self.seqs = dict(labels), dict(ids), dict(seqs)


class DenseRetriever:
    """Cosine similarity between embeddings; texts are embedded once through the cache."""

    name = "dense"

    def __init__(
        self,
        embedder: Embedder | str = "minilm",
        index: IndexKind = "exact",
        cache: EmbeddingCache | None = None,
        hnsw_m: int = 16,
        hnsw_ef_construction: int = 200,
        hnsw_ef_search: int = 100,
        seed: int = 0,
    ) -> None:
        if index not in ("exact", "hnsw"):
            raise ValueError(f"unknown dense index {index!r}; expected 'exact' or 'hnsw'")
        self.cache = cache if cache is not None else EmbeddingCache(make_embedder(embedder))
        self.kind: IndexKind = index
        self.hnsw = (hnsw_m, hnsw_ef_construction, hnsw_ef_search, seed)
        self._indexes: dict[str, _ExactIndex | _HnswIndex] = {}
        self._namespace_of: dict[str, str] = {}
        self._counter = 0

    @property
    def embedder(self) -> Embedder:
        return self.cache.embedder

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "name": self.name,
            "embedder": self.embedder.name,
            "index": self.kind,
        }
        if self.kind == "hnsw":
            info.update(zip(("M", "ef_construction", "ef_search", "seed"), self.hnsw, strict=True))
        return info

    def prefetch(self, texts: list[str]) -> None:
        """Embed many texts in one batch ahead of use."""
        self.cache.vectors(texts)

    def _new_index(self) -> _ExactIndex | _HnswIndex:
        if self.kind == "exact":
            return _ExactIndex(self.cache.dim)
        return _HnswIndex(self.cache.dim, *self.hnsw)

    def add(self, entry_id: str, text: str, namespace: str) -> None:
        if entry_id in self._namespace_of:
            raise KeyError(f"{entry_id!r} is already indexed")
        index = self._indexes.get(namespace)
        if index is None:
            index = self._indexes[namespace] = self._new_index()
        self._counter += 1
        index.add(entry_id, self.cache.vector(text), self._counter)
        self._namespace_of[entry_id] = namespace

    def update(self, entry_id: str, text: str, namespace: str) -> None:
        self._index_of(entry_id, namespace).update(entry_id, self.cache.vector(text))

    def remove(self, entry_id: str, namespace: str) -> None:
        self._index_of(entry_id, namespace).remove(entry_id)
        del self._namespace_of[entry_id]

    def search(self, query: str, k: int, namespace: str) -> list[Hit]:
        index = self._indexes.get(namespace)
        if index is None or k <= 0:
            return []
        vector = self.cache.vector(query)
        if vector.shape != (self.cache.dim,):
            # hnswlib does not check the query dimension and corrupts memory on a mismatch.
            raise ValueError(f"query vector has shape {vector.shape}, expected ({self.cache.dim},)")
        return index.search(np.ascontiguousarray(vector, dtype=np.float32), k)

    def snapshot(self) -> Any:
        return (
            self._counter,
            dict(self._namespace_of),
            {ns: ix.snapshot() for ns, ix in self._indexes.items()},
        )

    def restore(self, snapshot: Any) -> None:
        counter, namespace_of, indexes = snapshot
        self._counter = counter
        self._namespace_of = dict(namespace_of)
        restored: dict[str, _ExactIndex | _HnswIndex] = {}
        for ns, state in indexes.items():
            if self.kind == "exact":
                restored[ns] = _ExactIndex.from_snapshot(self.cache.dim, state)
            else:
                index = _HnswIndex(self.cache.dim, *self.hnsw)
                index.restore(state)
                restored[ns] = index
        self._indexes = restored

    def clone(self) -> DenseRetriever:
        """Same index state; the embedding cache is shared (it only ever grows)."""
        m, ef_construction, ef_search, seed = self.hnsw
        twin = DenseRetriever(
            index=self.kind,
            cache=self.cache,
            hnsw_m=m,
            hnsw_ef_construction=ef_construction,
            hnsw_ef_search=ef_search,
            seed=seed,
        )
        twin.restore(self.snapshot())
        return twin

    def __len__(self) -> int:
        return len(self._namespace_of)

    def _index_of(self, entry_id: str, namespace: str) -> _ExactIndex | _HnswIndex:
        if self._namespace_of.get(entry_id) != namespace:
            raise KeyError(f"{entry_id!r} is not indexed in namespace {namespace!r}")
        return self._indexes[namespace]
