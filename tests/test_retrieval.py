"""Retrievers: BM25 equals rank-bm25, dense exact/HNSW, the embedding cache, hybrid RRF."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from memgym.retrieval import (
    BM25Retriever,
    DenseRetriever,
    EmbeddingCache,
    HashingEmbedder,
    Hit,
    HybridRetriever,
    embedding_cache,
    make_retriever,
)
from memgym.retrieval.tokenizer import tokenize

WORDS = [f"w{i}" for i in range(60)]


def _random_text(rng: random.Random, n: int = 8) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(1, n)))


def _reference_ranking(texts: dict[str, str], query: str, k: int) -> list[Hit]:
    ids = list(texts)
    scores = BM25Okapi([tokenize(texts[i]) for i in ids]).get_scores(tokenize(query))
    order = sorted(range(len(ids)), key=lambda j: (-scores[j], j))[:k]
    return [(ids[j], float(scores[j])) for j in order]


@pytest.fixture(params=["python", "numpy"], autouse=False)
def bm25_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test on both scoring paths (plain Python for small namespaces, numpy for large)."""
    import memgym.retrieval.bm25 as bm25

    monkeypatch.setattr(bm25, "SMALL_INDEX", 10**9 if request.param == "python" else 0)
    return str(request.param)


@pytest.mark.usefixtures("bm25_path")
class TestBM25:
    def test_scores_and_ranking_equal_rank_bm25_after_random_writes(self) -> None:
        rng = random.Random(7)
        retriever = BM25Retriever()
        texts: dict[str, str] = {}
        for i in range(400):
            roll = rng.random()
            if roll < 0.6 or not texts:
                texts[f"m{i}"] = _random_text(rng)
                retriever.add(f"m{i}", texts[f"m{i}"], "ns")
            elif roll < 0.8:
                victim = rng.choice(list(texts))
                texts[victim] = _random_text(rng)
                retriever.update(victim, texts[victim], "ns")
            else:
                victim = rng.choice(list(texts))
                del texts[victim]
                retriever.remove(victim, "ns")
            if i % 25 == 0:
                query = _random_text(rng, 4)
                assert retriever.search(query, 10, "ns") == _reference_ranking(texts, query, 10)
                reference = BM25Okapi([tokenize(t) for t in texts.values()]).get_scores(
                    tokenize(query)
                )
                ours = retriever.scores(query, "ns")
                assert [ours[i] for i in texts] == pytest.approx(list(reference), abs=1e-12)

    def test_tiny_corpus_keeps_negative_scores_and_orders_zero_before_negative(self) -> None:
        retriever = BM25Retriever()
        # Mostly common words make the average idf, hence epsilon * average, negative.
        texts = {"m1": "apple pear", "m2": "apple pear", "m3": "plum"}
        for entry_id, text in texts.items():
            retriever.add(entry_id, text, "ns")
        hits = retriever.search("apple", 3, "ns")
        assert hits == _reference_ranking(texts, "apple", 3)
        assert [entry_id for entry_id, _ in hits] == ["m3", "m1", "m2"]
        assert hits[0][1] == 0.0 and hits[1][1] < 0

    def test_k_larger_than_corpus_empty_namespace_and_no_match(self) -> None:
        retriever = BM25Retriever()
        assert retriever.search("x", 5, "ns") == []
        retriever.add("m1", "golden retriever", "ns")
        retriever.add("m2", "beagle", "ns")
        assert [entry_id for entry_id, _ in retriever.search("retriever", 10, "ns")] == ["m1", "m2"]
        assert [entry_id for entry_id, _ in retriever.search("zebra", 10, "ns")] == ["m1", "m2"]
        assert retriever.search("beagle", 0, "ns") == []

    def test_unknown_ids_are_key_errors(self) -> None:
        retriever = BM25Retriever()
        retriever.add("m1", "a", "ns")
        with pytest.raises(KeyError):
            retriever.add("m1", "a", "ns")
        with pytest.raises(KeyError):
            retriever.update("m2", "a", "ns")
        with pytest.raises(KeyError):
            retriever.remove("m1", "other")

    def test_snapshot_is_isolated_from_later_writes(self) -> None:
        retriever = BM25Retriever()
        for i in range(5):
            retriever.add(f"m{i}", f"shared word{i}", "ns")
        snap = retriever.snapshot()
        before = retriever.search("shared word1", 5, "ns")
        retriever.update("m1", "other", "ns")
        retriever.remove("m2", "ns")
        retriever.add("m9", "shared shared", "ns")
        twin = retriever.clone()
        retriever.restore(snap)
        assert retriever.search("shared word1", 5, "ns") == before
        assert [entry_id for entry_id, _ in twin.search("shared", 1, "ns")] == ["m9"]


class _CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__(64)
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return super().embed(texts)


class TestDense:
    def test_hashing_embedder_is_deterministic_and_unit_length(self) -> None:
        embedder = HashingEmbedder(128)
        a = embedder.embed(["Andrew adopted a dog", "", "Andrew adopted a dog"])
        assert a.dtype == np.float32 and a.shape == (3, 128)
        assert np.linalg.norm(a[0]) == pytest.approx(1.0)
        assert not a[1].any()
        assert np.array_equal(a[0], a[2])
        assert np.array_equal(
            a, HashingEmbedder(128).embed(["Andrew adopted a dog", "", "Andrew adopted a dog"])
        )

    def test_cache_embeds_each_text_once_and_batches_misses(self) -> None:
        embedder = _CountingEmbedder()
        cache = EmbeddingCache(embedder)
        cache.vectors(["a b", "c d", "a b"])
        cache.vectors(["c d", "e f"])
        cache.vector("a b")
        assert embedder.calls == [2, 1] and cache.n_embedded == 3

    def test_disk_cache_round_trip_memory_mapped(self, tmp_path: Path) -> None:
        cache = EmbeddingCache(HashingEmbedder(32), tmp_path)
        expected = cache.vectors(["one", "two"])
        cache.save()
        embedder = _CountingEmbedder()
        embedder.name = "hashing-32"
        embedder.dim = 32
        reloaded = EmbeddingCache(embedder, tmp_path)
        assert np.array_equal(reloaded.vectors(["two", "one"]), expected[::-1])
        assert embedder.calls == []
        assert len(list((tmp_path / "hashing-32").glob("shard-*.npy"))) == 1

    def test_unwritable_cache_folder_warns_and_keeps_the_rows(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("not a folder")
        embedder = _CountingEmbedder()
        cache = EmbeddingCache(embedder, tmp_path / "file" / "cache")
        first = cache.vectors(["one", "two"])
        with pytest.warns(UserWarning, match="not written"):
            cache.save()
        assert np.array_equal(cache.vectors(["two", "one"]), first[::-1])
        assert embedder.calls == [2]

    def test_a_compaction_the_disk_refuses_warns_too(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def full_disk(self: EmbeddingCache) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(embedding_cache, "MAX_SHARDS", 0)
        monkeypatch.setattr(EmbeddingCache, "_compact", full_disk)
        cache = EmbeddingCache(HashingEmbedder(32), tmp_path)
        cache.vectors(["one"])
        with pytest.warns(UserWarning, match="No space left"):
            cache.save()

    def test_disk_cache_of_other_dimension_is_refused(self, tmp_path: Path) -> None:
        cache = EmbeddingCache(HashingEmbedder(32), tmp_path)
        cache.vectors(["one"])
        cache.save()
        wrong = HashingEmbedder(16)
        wrong.name = "hashing-32"
        with pytest.raises(ValueError, match="does not match"):
            EmbeddingCache(wrong, tmp_path)

    @pytest.mark.parametrize("kind", ["exact", "hnsw"])
    def test_search_ranks_by_cosine_and_handles_large_k(self, kind: str) -> None:
        retriever = DenseRetriever(HashingEmbedder(64), index=kind)  # type: ignore[arg-type]
        for i, text in enumerate(
            ["golden retriever dog", "beagle dog puppy", "stock market", "dog"]
        ):
            retriever.add(f"m{i}", text, "ns")
        hits = retriever.search("dog", 100, "ns")
        assert hits[0][0] == "m3" and len(hits) == 4
        retriever.remove("m3", "ns")
        retriever.update("m2", "dog", "ns")
        assert retriever.search("dog", 100, "ns")[0][0] == "m2"
        assert retriever.search("dog", 100, "other") == []

    def test_hnsw_resizes_and_agrees_with_exact_on_small_banks(self) -> None:
        rng = random.Random(3)
        exact = DenseRetriever(HashingEmbedder(64), index="exact")
        approx = DenseRetriever(HashingEmbedder(64), index="hnsw")
        for i in range(150):  # past the initial capacity of 64
            text = _random_text(rng)
            exact.add(f"m{i}", text, "ns")
            approx.add(f"m{i}", text, "ns")
        for i in range(0, 150, 3):
            exact.remove(f"m{i}", "ns")
            approx.remove(f"m{i}", "ns")
        for _ in range(20):
            query = _random_text(rng, 3)
            # Equal scores at the cut-off may be different memories: compare scores.
            got = [score for _, score in approx.search(query, 5, "ns")]
            assert got == pytest.approx(
                [score for _, score in exact.search(query, 5, "ns")], abs=1e-6
            )

    def test_ties_break_by_insertion_order(self) -> None:
        retriever = DenseRetriever(HashingEmbedder(64))
        for i in range(6):
            retriever.add(f"m{i}", "same text", "ns")
        assert [entry_id for entry_id, _ in retriever.search("same text", 4, "ns")] == [
            "m0",
            "m1",
            "m2",
            "m3",
        ]


class _Fixed:
    """A stub retriever returning a fixed ranking."""

    name = "fixed"

    def __init__(self, ranking: list[str]) -> None:
        self.ranking = ranking

    def add(self, entry_id: str, text: str, namespace: str) -> None: ...
    def update(self, entry_id: str, text: str, namespace: str) -> None: ...
    def remove(self, entry_id: str, namespace: str) -> None: ...

    def search(self, query: str, k: int, namespace: str) -> list[Hit]:
        return [(i, 1.0) for i in self.ranking[:k]]


def test_hybrid_is_weighted_reciprocal_rank_fusion() -> None:
    hybrid = HybridRetriever(
        _Fixed(["a", "b", "c"]), _Fixed(["c", "b"]), weights=(1.0, 2.0), rrf_k=1
    )  # type: ignore[arg-type]
    for entry_id in "abc":
        hybrid.add(entry_id, "", "ns")
    hits = hybrid.search("q", 3, "ns")
    # a: 1/2; b: 1/3 + 2/3; c: 1/4 + 2/2
    assert [entry_id for entry_id, _ in hits] == ["c", "b", "a"]
    assert [score for _, score in hits] == pytest.approx([1.25, 1.0, 0.5])


def test_factory_builds_each_retriever() -> None:
    assert make_retriever("bm25").describe()["name"] == "bm25"
    dense = make_retriever("dense", embedder="hashing-32")
    assert dense.describe() == {"name": "dense", "embedder": "hashing-32", "index": "exact"}
    hybrid = make_retriever("hybrid", embedder="hashing", dense_index="hnsw")
    assert hybrid.describe()["dense"]["index"] == "hnsw"
    with pytest.raises(ValueError, match="unknown retriever"):
        make_retriever("tfidf")
