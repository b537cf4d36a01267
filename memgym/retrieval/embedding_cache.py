"""Content-addressed embedding cache: a text is embedded once per model, ever, across processes.

Keys are sha1 of the text. On disk (one folder per model name) the cache is a set of
immutable shards: `shard-<hash>.npy` (float32 rows, memory-mapped on load, never unpickled)
and `shard-<hash>.json` (the keys of those rows), the vectors written first and the keys last,
each atomically. Processes that share the folder (AsyncVectorEnv workers, leaderboard workers)
only ever add shards, so none can point another at a missing file; a shard whose vectors are
gone or do not match is skipped and the texts are embedded again. `save` writes only the rows
not yet on disk, and replaces them in memory by views of the new shard, so a long-running
process holds no more than its unsaved rows. Past MAX_SHARDS, a save merges the shards into
one; a process still reading an old shard keeps its open map.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from memgym.io import atomic_write_bytes
from memgym.retrieval.embedders import Embedder

MAX_SHARDS = 32
_SHARD = re.compile(r"^shard-[0-9a-f]{16}\.json$")


def text_key(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeds through `embedder` only the texts it has not seen; batches misses in one call."""

    def __init__(self, embedder: Embedder, folder: Path | None = None) -> None:
        self.embedder = embedder
        self.folder = None if folder is None else Path(folder) / _safe(embedder.name)
        self._rows: dict[str, np.ndarray] = {}
        self._unsaved: dict[str, np.ndarray] = {}
        self._shards: set[str] = set()
        self.n_embedded = 0
        self.skipped_shards: list[str] = []
        self._lock = threading.RLock()  # conversations evaluated in threads share one cache
        self._refresh()

    @property
    def dim(self) -> int:
        return self.embedder.dim

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self._rows

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Rows for `texts` in order, embedding the unseen ones in one batch (after looking for
        them in shards other processes wrote since)."""
        keys = [text_key(t) for t in texts]
        with self._lock:
            missing = self._missing(keys, texts)
            if missing:
                self._refresh()
                missing = self._missing(keys, texts)
            if missing:
                fresh = self.embedder.embed(list(missing.values()))
                if fresh.shape != (len(missing), self.dim):
                    raise ValueError(
                        f"embedder {self.embedder.name!r} returned shape {fresh.shape}, "
                        f"expected ({len(missing)}, {self.dim})"
                    )
                self.n_embedded += len(missing)
                for key, row in zip(missing, fresh, strict=True):
                    self._rows[key] = self._unsaved[key] = row
            if not keys:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self._rows[k] for k in keys])

    def _missing(self, keys: Sequence[str], texts: Sequence[str]) -> dict[str, str]:
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self._rows and key not in missing:
                missing[key] = text
        return missing

    def vector(self, text: str) -> np.ndarray:
        """One text's row."""
        row = self._rows.get(text_key(text))
        return row if row is not None else self.vectors([text])[0]

    def save(self) -> None:
        """Write the rows not yet on disk as one new shard (no-op without a folder); where the
        folder cannot be written, warn and keep the rows in memory."""
        with self._lock:
            if self.folder is None or not self._unsaved:
                return
            keys = list(self._unsaved)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                name = self._write_shard(keys, np.stack([self._unsaved[k] for k in keys]))
                self._unsaved.clear()
                self._map_shard(name)
                if len(self._shards) > MAX_SHARDS:
                    self._compact()
            except OSError as exc:  # the cache only saves time: the work it served goes on
                warnings.warn(
                    f"memgym: embedding cache {self.folder} not written ({exc}); "
                    "the embeddings stay in memory",
                    stacklevel=2,
                )

    def _write_shard(self, keys: list[str], matrix: np.ndarray) -> str:
        assert self.folder is not None
        buffer = io.BytesIO()
        np.save(buffer, matrix.astype(np.float32), allow_pickle=False)
        data = buffer.getvalue()
        name = f"shard-{hashlib.sha1(data + ''.join(keys).encode()).hexdigest()[:16]}"
        atomic_write_bytes(self.folder / f"{name}.npy", data)
        meta = {"model": self.embedder.name, "dim": self.dim, "keys": keys}
        atomic_write_bytes(self.folder / f"{name}.json", json.dumps(meta).encode("utf-8"))
        return name

    def _refresh(self) -> None:
        """Map every shard on disk not mapped yet; skip (and report) unusable ones."""
        if self.folder is None or not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("shard-*.json")):
            if _SHARD.match(path.name) and path.stem not in self._shards:
                self._map_shard(path.stem)

    def _map_shard(self, name: str) -> None:
        assert self.folder is not None
        try:
            meta = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
            matrix = np.load(self.folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:  # deleted by a compaction, or cut short
            self.skipped_shards.append(f"{name}: {type(exc).__name__}")
            return
        keys = meta.get("keys")
        if meta.get("dim") != self.dim or not isinstance(keys, list):
            raise ValueError(
                f"embedding cache {self.folder} does not match model {self.embedder.name!r} "
                f"(dim {self.dim}): shard {name} has dim {meta.get('dim')}"
            )
        if matrix.shape != (len(keys), self.dim):
            self.skipped_shards.append(f"{name}: {matrix.shape} rows for {len(keys)} keys")
            return
        for key, row in zip(keys, matrix, strict=True):
            if key not in self._unsaved:
                self._rows[key] = row
        self._shards.add(name)

    def _compact(self) -> None:
        """Merge every shard into one: write the merged shard, then drop the old ones (keys
        file first, so no process ever reads keys without their vectors)."""
        assert self.folder is not None
        keys = list(self._rows)
        old = set(self._shards)
        name = self._write_shard(keys, np.stack([self._rows[k] for k in keys]))
        for stale in old - {name}:
            (self.folder / f"{stale}.json").unlink(missing_ok=True)
            (self.folder / f"{stale}.npy").unlink(missing_ok=True)
        self._shards = set()
        self._map_shard(name)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
