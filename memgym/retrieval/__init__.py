"""Retrieval over memory texts: incremental BM25, dense (exact or HNSW) and hybrid RRF."""

from memgym.retrieval.base import Hit, Retriever
from memgym.retrieval.bm25 import BM25Retriever
from memgym.retrieval.dense import DenseRetriever
from memgym.retrieval.embedders import (
    Embedder,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from memgym.retrieval.embedding_cache import EmbeddingCache
from memgym.retrieval.factory import RETRIEVERS, make_retriever
from memgym.retrieval.hybrid import HybridRetriever

__all__ = [
    "RETRIEVERS",
    "BM25Retriever",
    "DenseRetriever",
    "Embedder",
    "EmbeddingCache",
    "HashingEmbedder",
    "Hit",
    "HybridRetriever",
    "Retriever",
    "SentenceTransformerEmbedder",
    "make_embedder",
    "make_retriever",
]
