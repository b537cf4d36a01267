"""Content-addressed embedding cache: a text is embedded once per model, ever.

Keys are sha1 of the text. The optional folder (one per model name) holds `keys.json` and the
`vectors-<hash>.npy` it names (float32, memory-mapped on load, never unpickled). The vectors are
written first and `keys.json` last, atomically, so a crash never pairs keys with wrong rows.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memgym.io import atomic_write_bytes
from memgym.retrieval.embedders import Embedder


def text_key(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeds through `embedder` only the texts it has not seen; batches misses in one call."""

    def __init__(self, embedder: Embedder, folder: Path | None = None) -> None:
        self.embedder = embedder
        self.folder = None if folder is None else Path(folder) / _safe(embedder.name)
        self._vectors: dict[str, np.ndarray] = {}
        self._persisted: set[str] = set()
        self.n_embedded = 0
        if self.folder is not None and (self.folder / "keys.json").exists():
            self._load()

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def __len__(self) -> int:
        return len(self._vectors)

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self._vectors

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for `texts` in order, embedding the unseen ones in one batch."""
        keys = [text_key(t) for t in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._vectors and key not in missing:
                missing[key] = text
        if missing:
            fresh = self.embedder.embed(list(missing.values()))
            if fresh.shape != (len(missing), self.dim):
                raise ValueError(
                    f"embedder {self.embedder.name!r} returned shape {fresh.shape}, "
                    f"expected ({len(missing)}, {self.dim})"
                )
            self.n_embedded += len(missing)
            for key, row in zip(missing, fresh, strict=True):
                self._vectors[key] = row
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys])

    def vector(self, text: str) -> np.ndarray:
        """One text's row."""
        key = text_key(text)
        row = self._vectors.get(key)
        return row if row is not None else self.vectors([text])[0]

    def save(self) -> None:
        """Write every cached vector to the folder (no-op without a folder)."""
        if self.folder is None or set(self._vectors) == self._persisted:
            return
        keys = list(self._vectors)
        matrix = np.stack([self._vectors[k] for k in keys]).astype(np.float32)
        buffer = io.BytesIO()
        np.save(buffer, matrix, allow_pickle=False)
        data = buffer.getvalue()
        vectors_name = f"vectors-{hashlib.sha1(data).hexdigest()[:16]}.npy"
        atomic_write_bytes(self.folder / vectors_name, data)
        meta = {"model": self.embedder.name, "dim": self.dim, "vectors": vectors_name, "keys": keys}
        atomic_write_bytes(self.folder / "keys.json", json.dumps(meta).encode("utf-8"))
        for old in self.folder.glob("vectors-*.npy"):
            if old.name != vectors_name:
                old.unlink(missing_ok=True)
        self._persisted = set(keys)

    def _load(self) -> None:
        assert self.folder is not None
        meta = json.loads((self.folder / "keys.json").read_text())
        matrix = np.load(self.folder / meta["vectors"], mmap_mode="r", allow_pickle=False)
        if meta.get("dim") != self.dim or matrix.shape != (len(meta["keys"]), self.dim):
            raise ValueError(
                f"embedding cache {self.folder} does not match model {self.embedder.name!r} "
                f"(dim {self.dim}): keys {len(meta['keys'])}, vectors {matrix.shape}"
            )
        self._vectors = dict(zip(meta["keys"], matrix, strict=True))
        self._persisted = set(self._vectors)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
