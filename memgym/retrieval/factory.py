"""Build retrievers by name for configs, result files and the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from memgym.retrieval.base import Retriever
from memgym.retrieval.bm25 import BM25Retriever
from memgym.retrieval.dense import DenseRetriever, IndexKind
from memgym.retrieval.embedders import Embedder, make_embedder
from memgym.retrieval.embedding_cache import EmbeddingCache
from memgym.retrieval.hybrid import HybridRetriever

RetrieverName = Literal["bm25", "dense", "hybrid"]
RETRIEVERS: tuple[str, ...] = ("bm25", "dense", "hybrid")


def make_retriever(
    name: str = "hybrid",
    embedder: str | Embedder = "minilm",
    dense_index: IndexKind = "exact",
    cache: EmbeddingCache | None = None,
    cache_dir: Path | None = None,
) -> Retriever:
    """A retriever by name; dense and hybrid use `cache` (or a new one, on disk at `cache_dir`)."""
    if name == "bm25":
        return BM25Retriever()
    if name not in RETRIEVERS:
        raise ValueError(f"unknown retriever {name!r}; expected one of {', '.join(RETRIEVERS)}")
    if cache is None:
        cache = EmbeddingCache(make_embedder(embedder), cache_dir)
    dense = DenseRetriever(index=dense_index, cache=cache)
    return dense if name == "dense" else HybridRetriever(BM25Retriever(), dense)
