"""A reward cache for answer agents: the same reader on the same question and context answers
once, whichever env, fork, vector-env worker or GRPO group member asks.

The key is the reader's fingerprint (its description: model, prompt hashes, decoding
settings), the question (id, text, time, category) and the exact context it would read (each
memory's namespace, date and text, in order). Entries live in a bounded in-process LRU shared
by every env of the process, and optionally in SQLite on disk, safe across processes. Failed
answers (`Answer.error`) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memgym.agents.base import Answer, AnswerAgent, AskedQuestion, RetrievedMemory
from memgym.agents.response_cache import enable_wal
from memgym.io import stable_hash

DEFAULT_MAX_ENTRIES = 200_000


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def as_dict(self) -> dict[str, float]:
        return {"hits": self.hits, "misses": self.misses, "hit_rate": self.hit_rate}


class AnswerCache:
    """Key -> Answer: an LRU of at most `max_entries`, backed by an SQLite file if `path`."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, path: str | Path | None = None):
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self.path = None if path is None else Path(path)
        self._memory: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
            enable_wal(self._db)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, answer TEXT NOT NULL)"
            )
            self._db.commit()

    def __len__(self) -> int:
        return len(self._memory)

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._memory.get(key)
            if answer is not None:
                self._memory.move_to_end(key)
                return answer
            if self._db is None:
                return None
            row = self._db.execute("SELECT answer FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        answer = _decode(row[0])
        self._remember(key, answer)
        return answer

    def put(self, key: str, answer: Answer) -> None:
        if answer.error is not None:
            return
        self._remember(key, answer)
        if self._db is not None:
            with self._lock:
                self._db.execute(
                    "INSERT OR REPLACE INTO answers (key, answer) VALUES (?, ?)",
                    (key, _encode(answer)),
                )
                self._db.commit()

    def _remember(self, key: str, answer: Answer) -> None:
        with self._lock:
            self._memory[key] = answer
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)

    def __getstate__(self) -> dict[str, Any]:
        return {"max_entries": self.max_entries, "path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_entries"], state["path"])  # type: ignore[misc]


def _encode(answer: Answer) -> str:
    return json.dumps(
        {"text": answer.text, "selected": list(answer.selected), "details": answer.details},
        ensure_ascii=False,
    )


def _decode(blob: str) -> Answer:
    data = json.loads(blob)
    return Answer(data["text"], tuple(data["selected"]), details=dict(data["details"]))


_SHARED: dict[tuple[int, str | None], AnswerCache] = {}


def shared_answer_cache(
    path: str | Path | None = None, max_entries: int = DEFAULT_MAX_ENTRIES
) -> AnswerCache:
    """The process-wide cache for `path` (None: memory only), created on first use."""
    key = (max_entries, None if path is None else str(Path(path).resolve()))
    if key not in _SHARED:
        _SHARED[key] = AnswerCache(max_entries, path)
    return _SHARED[key]


def context_key(
    fingerprint: str, question: AskedQuestion, memories: Sequence[RetrievedMemory]
) -> str:
    """The cache key of one reader call."""
    blob = json.dumps(
        [
            fingerprint,
            [question.id, question.text, question.time_raw, str(question.time), question.category],
            [[m.namespace, str(m.time), m.text] for m in memories],
        ],
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CachingAnswerer:
    """An AnswerAgent that asks `inner` only about (question, context) pairs it has not seen,
    all of them in one `answer_batch` call."""

    def __init__(self, inner: AnswerAgent, cache: AnswerCache, fingerprint: dict[str, Any]):
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self.fingerprint = stable_hash(fingerprint)
        self.stats = CacheStats()

    @property
    def oracle(self) -> bool:
        return bool(getattr(self.inner, "oracle", False))

    def describe(self) -> dict[str, Any]:
        describe = getattr(self.inner, "describe", None)
        info = dict(describe()) if callable(describe) else {"name": self.name}
        if self.oracle:
            info["oracle"] = True
        return info

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        return self.answer_batch([(question, memories)])[0]

    def answer_batch(
        self, items: Sequence[tuple[AskedQuestion, Sequence[RetrievedMemory]]]
    ) -> list[Answer]:
        keys = [context_key(self.fingerprint, q, m) for q, m in items]
        found: dict[str, Answer] = {}
        missing: dict[str, tuple[AskedQuestion, Sequence[RetrievedMemory]]] = {}
        for key, item in zip(keys, items, strict=True):
            if key in found or key in missing:
                continue
            hit = self.cache.get(key)
            if hit is None:
                missing[key] = item
            else:
                found[key] = hit
        self.stats.hits += len(items) - len(missing)
        self.stats.misses += len(missing)
        if missing:
            fresh = self.inner.answer_batch(list(missing.values()))
            for key, answer in zip(missing, fresh, strict=True):
                found[key] = answer
                self.cache.put(key, answer)
        return [found[key] for key in keys]
