"""Incremental BM25 (Okapi) whose scores equal rank-bm25's `BM25Okapi` on the same live corpus.

Writes touch only the postings of the written document. rank-bm25 replaces negative idf values
by `epsilon * average idf`, and the average runs over the whole vocabulary; a histogram of
document frequencies gives that average without visiting every term. Scoring is vectorised
over each query term's postings with the same float operations as rank-bm25. Snapshots share
posting lists copy-on-write: taking one costs shallow copies, and the next write to a term
copies only that term's postings.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memgym.retrieval.base import Hit, hits, top_indices
from memgym.retrieval.tokenizer import tokenize

SMALL_INDEX = 256  # namespaces up to this size are scored in plain Python


@dataclass
class _Index:
    """One namespace. Documents live in integer slots; `seq` orders them for tie-breaks."""

    slot_of: dict[str, int] = field(default_factory=dict)
    ids: list[str | None] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    seqs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    freqs: dict[str, dict[str, int]] = field(default_factory=dict)
    postings: dict[str, dict[int, int]] = field(default_factory=dict)
    df_histogram: Counter[int] = field(default_factory=Counter)
    total_length: int = 0
    owned: set[str] = field(default_factory=set)

    def frozen_copy(self) -> _Index:
        # Posting dicts are shared: neither side may mutate them until it owns a private copy.
        self.owned = set()
        return _Index(
            dict(self.slot_of),
            list(self.ids),
            list(self.free),
            self.lengths.copy(),
            self.seqs.copy(),
            dict(self.freqs),
            dict(self.postings),
            Counter(self.df_histogram),
            self.total_length,
        )

    def live_slots(self) -> np.ndarray:
        return np.fromiter(self.slot_of.values(), dtype=np.int64, count=len(self.slot_of))


class BM25Retriever:
    """BM25Okapi (k1, b, epsilon as in rank-bm25) over per-namespace inverted indexes."""

    name = "bm25"

    def __init__(
        self,
        k1: float = 1.5,
        b: float = 0.75,
        epsilon: float = 0.25,
        tokenizer: Callable[[str], list[str]] = tokenize,
    ) -> None:
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.tokenizer = tokenizer
        self._indexes: dict[str, _Index] = {}
        self._counter = 0

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "k1": self.k1, "b": self.b, "epsilon": self.epsilon}

    def add(self, entry_id: str, text: str, namespace: str) -> None:
        index = self._indexes.setdefault(namespace, _Index())
        if entry_id in index.slot_of:
            raise KeyError(f"{entry_id!r} is already indexed in namespace {namespace!r}")
        self._counter += 1
        if index.free:
            slot = index.free.pop()
            index.ids[slot] = entry_id
        else:
            slot = len(index.ids)
            index.ids.append(entry_id)
            if slot >= len(index.lengths):
                grow = max(16, len(index.lengths))
                index.lengths = np.concatenate([index.lengths, np.zeros(grow)])
                index.seqs = np.concatenate([index.seqs, np.zeros(grow, dtype=np.int64)])
        index.slot_of[entry_id] = slot
        index.seqs[slot] = self._counter
        self._insert(index, entry_id, self.tokenizer(text))

    def update(self, entry_id: str, text: str, namespace: str) -> None:
        index = self._index_of(entry_id, namespace)
        self._delete(index, entry_id)
        self._insert(index, entry_id, self.tokenizer(text))

    def remove(self, entry_id: str, namespace: str) -> None:
        index = self._index_of(entry_id, namespace)
        self._delete(index, entry_id)
        slot = index.slot_of.pop(entry_id)
        index.ids[slot] = None
        index.free.append(slot)

    def scores(self, query: str, namespace: str) -> dict[str, float]:
        """BM25 score of every live document of the namespace, in insertion order."""
        index = self._indexes.get(namespace)
        if index is None or not index.slot_of:
            return {}
        scores, _ = self._score(index, self.tokenizer(query))
        slots = sorted(index.slot_of.values(), key=lambda s: int(index.seqs[s]))
        return {str(index.ids[s]): float(scores[s]) for s in slots}

    def search(self, query: str, k: int, namespace: str) -> list[Hit]:
        index = self._indexes.get(namespace)
        if index is None or not index.slot_of or k <= 0:
            return []
        if len(index.slot_of) <= SMALL_INDEX:
            return self._search_small(index, self.tokenizer(query), k)
        scores, touched = self._score(index, self.tokenizer(query))
        positive = touched[scores[touched] > 0]
        # Usually enough documents share a query term; otherwise rank every live document
        # (zero and negative scores included, as rank-bm25 does).
        candidates = positive if len(positive) >= k else index.live_slots()
        chosen = candidates[top_indices(scores[candidates], index.seqs[candidates], k)]
        return hits([str(index.ids[s]) for s in chosen.tolist()], scores[chosen].tolist())

    def snapshot(self) -> Any:
        return (self._counter, {ns: ix.frozen_copy() for ns, ix in self._indexes.items()})

    def restore(self, snapshot: Any) -> None:
        counter, indexes = snapshot
        self._counter = counter
        self._indexes = {ns: ix.frozen_copy() for ns, ix in indexes.items()}

    def clone(self) -> BM25Retriever:
        twin = BM25Retriever(self.k1, self.b, self.epsilon, self.tokenizer)
        twin.restore(self.snapshot())
        return twin

    def __len__(self) -> int:
        return sum(len(ix.slot_of) for ix in self._indexes.values())

    def _weighted_postings(
        self, index: _Index, query_tokens: list[str]
    ) -> Iterator[tuple[float, dict[int, int]]]:
        """(idf, posting) per query term present, with rank-bm25's epsilon floor for idf < 0."""
        n_docs = len(index.slot_of)
        eps: float | None = None
        for term in query_tokens:
            posting = index.postings.get(term)
            if not posting:
                continue
            df = len(posting)
            idf = math.log(n_docs - df + 0.5) - math.log(df + 0.5)
            if idf < 0:
                if eps is None:
                    eps = self.epsilon * self._average_idf(index, n_docs)
                idf = eps
            yield idf, posting

    def _search_small(self, index: _Index, query_tokens: list[str], k: int) -> list[Hit]:
        """Plain-Python scoring for small namespaces, where numpy's per-call cost dominates.

        The float operations are those of `_score`, in the same order, so scores are equal.
        """
        avgdl = index.total_length / len(index.slot_of)
        k1, b = self.k1, self.b
        lengths, seqs, ids = index.lengths, index.seqs, index.ids
        scores = dict.fromkeys(index.slot_of.values(), 0.0)
        for idf, posting in self._weighted_postings(index, query_tokens):
            for slot, tf in posting.items():
                dl = float(lengths[slot])
                scores[slot] += idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], int(seqs[item[0]])))[:k]
        return hits([str(ids[slot]) for slot, _ in ranked], [score for _, score in ranked])

    def _score(self, index: _Index, query_tokens: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores by slot (0 where no query term occurs) and the slots that hold a query term."""
        avgdl = index.total_length / len(index.slot_of)
        scores = np.zeros(len(index.ids), dtype=np.float64)
        touched: list[np.ndarray] = []
        k1, b = self.k1, self.b
        for idf, posting in self._weighted_postings(index, query_tokens):
            df = len(posting)
            slots = np.fromiter(posting.keys(), dtype=np.int64, count=df)
            tf = np.fromiter(posting.values(), dtype=np.float64, count=df)
            dl = index.lengths[slots]
            scores[slots] += idf * (tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)))
            touched.append(slots)
        if not touched:
            return scores, np.zeros(0, dtype=np.int64)
        return scores, np.unique(np.concatenate(touched))

    @staticmethod
    def _average_idf(index: _Index, n_docs: int) -> float:
        vocabulary = sum(index.df_histogram.values())
        total = sum(
            count * (math.log(n_docs - df + 0.5) - math.log(df + 0.5))
            for df, count in index.df_histogram.items()
        )
        return total / vocabulary if vocabulary else 0.0

    def _index_of(self, entry_id: str, namespace: str) -> _Index:
        index = self._indexes.get(namespace)
        if index is None or entry_id not in index.slot_of:
            raise KeyError(f"{entry_id!r} is not indexed in namespace {namespace!r}")
        return index

    @staticmethod
    def _posting(index: _Index, term: str) -> dict[int, int]:
        if term not in index.owned:
            index.postings[term] = dict(index.postings.get(term, {}))
            index.owned.add(term)
        return index.postings[term]

    def _insert(self, index: _Index, entry_id: str, tokens: list[str]) -> None:
        slot = index.slot_of[entry_id]
        freqs = dict(Counter(tokens))
        index.freqs[entry_id] = freqs
        index.lengths[slot] = len(tokens)
        index.total_length += len(tokens)
        for term, tf in freqs.items():
            posting = self._posting(index, term)
            _move_df(index.df_histogram, len(posting), len(posting) + 1)
            posting[slot] = tf

    def _delete(self, index: _Index, entry_id: str) -> None:
        slot = index.slot_of[entry_id]
        freqs = index.freqs.pop(entry_id)
        index.total_length -= int(index.lengths[slot])
        index.lengths[slot] = 0
        for term in freqs:
            posting = self._posting(index, term)
            _move_df(index.df_histogram, len(posting), len(posting) - 1)
            del posting[slot]
            if not posting:
                del index.postings[term]
                index.owned.discard(term)


def _move_df(histogram: Counter[int], old: int, new: int) -> None:
    """One term's document frequency went from `old` to `new` (0 = absent)."""
    if old:
        histogram[old] -= 1
        if not histogram[old]:
            del histogram[old]
    if new:
        histogram[new] += 1
