"""The memory bank: validated ADD/UPDATE/DELETE/NOOP over immutable entries, per namespace,
kept in step with a retriever, with cheap exact snapshots and atomic JSON persistence.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memgym.errors import MemoryBankError
from memgym.memory.operations import HistoryRecord, LogRecord, MemoryEntry, Op
from memgym.retrieval.base import Retriever
from memgym.tokens import count_tokens

DEFAULT_NAMESPACE = "default"


@dataclass(frozen=True)
class BankSnapshot:
    """An exact copy of a bank's state (entries, log, id counter, retriever index)."""

    entries: dict[str, MemoryEntry]
    log: tuple[LogRecord, ...]
    counter: int
    retriever: Any


@dataclass(frozen=True)
class ScoredEntry:
    """A retrieved memory with its retrieval score."""

    entry: MemoryEntry
    score: float


class MemoryBank:
    """Memories with stable ids (`m1`, `m2`, ...) in namespaces (e.g. one per speaker).

    Every write is validated (unknown id, empty text, text longer than `max_text_chars`) and
    raises MemoryBankError without changing anything. Entries keep their own history; the bank
    keeps a log of every operation. `retriever`, if given, is updated on every write.
    """

    def __init__(self, retriever: Retriever | None = None, max_text_chars: int = 2000) -> None:
        if max_text_chars <= 0:
            raise ValueError("max_text_chars must be positive")
        self.retriever = retriever
        self.max_text_chars = max_text_chars
        self._entries: dict[str, MemoryEntry] = {}
        self._log: list[LogRecord] = []
        self._counter = 0
        # Per namespace [memories, tokens], built on first use and kept up to date by every
        # write after it: banks with a capacity read it at every step.
        self._usage: dict[str, list[int]] | None = None

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def __iter__(self) -> Iterator[MemoryEntry]:
        return iter(self._entries.values())

    def get(self, entry_id: str) -> MemoryEntry:
        """The live entry with this id; MemoryBankError if there is none."""
        entry = self._entries.get(entry_id)
        if entry is None:
            raise MemoryBankError(f"no memory with id {entry_id!r}")
        return entry

    def entries(self, namespace: str | None = None) -> list[MemoryEntry]:
        """Live entries in creation order, optionally of one namespace."""
        return [e for e in self._entries.values() if namespace is None or e.namespace == namespace]

    def namespaces(self) -> list[str]:
        """Namespaces that hold at least one live entry, in order of first use."""
        return list(dict.fromkeys(e.namespace for e in self._entries.values()))

    def usage(self, namespace: str) -> tuple[int, int]:
        """How many memories `namespace` holds and their tokens (`memgym.tokens`)."""
        if self._usage is None:
            self._usage = {}
            for entry in self._entries.values():
                self._count(entry.namespace, 1, entry.text)
        memories, tokens = self._usage.get(namespace, (0, 0))
        return memories, tokens

    def _count(self, namespace: str, memories: int, text: str, sign: int = 1) -> None:
        if self._usage is not None:
            row = self._usage.setdefault(namespace, [0, 0])
            row[0] += memories
            row[1] += sign * count_tokens(text)

    @property
    def log(self) -> tuple[LogRecord, ...]:
        return tuple(self._log)

    @property
    def counter(self) -> int:
        """How many ids have been issued (the next ADD gets `m{counter + 1}`)."""
        return self._counter

    def search(self, query: str, k: int, namespace: str = DEFAULT_NAMESPACE) -> list[ScoredEntry]:
        """Top-k memories of `namespace` for `query` (needs a retriever)."""
        if self.retriever is None:
            raise MemoryBankError("this bank has no retriever; pass one to MemoryBank(...)")
        entries = self._entries
        return [ScoredEntry(entries[i], s) for i, s in self.retriever.search(query, k, namespace)]

    # -- writing ---------------------------------------------------------------------------

    def add(
        self,
        text: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        time: datetime | None = None,
        source_fact_ids: Sequence[str] = (),
        source_turn_ids: Sequence[str] = (),
        step: int | None = None,
    ) -> MemoryEntry:
        """Store a new memory and return it."""
        text = self.validate_text(text)
        if not namespace:
            raise MemoryBankError("namespace must be a non-empty string")
        self._counter += 1
        entry = MemoryEntry(
            id=f"m{self._counter}",
            text=text,
            namespace=namespace,
            seq=self._counter,
            created_at=time,
            updated_at=time,
            source_fact_ids=tuple(source_fact_ids),
            source_turn_ids=tuple(source_turn_ids),
            history=(HistoryRecord(op=Op.ADD, old_text=None, new_text=text, step=step),),
        )
        if self.retriever is not None:
            self.retriever.add(entry.id, text, namespace)
        self._entries[entry.id] = entry
        self._count(namespace, 1, text)
        self._record(Op.ADD, entry, None, text, step)
        return entry

    def update(
        self,
        entry_id: str,
        text: str,
        *,
        time: datetime | None = None,
        source_fact_ids: Sequence[str] = (),
        source_turn_ids: Sequence[str] = (),
        step: int | None = None,
    ) -> MemoryEntry:
        """Replace an entry's text (id and creation time kept; new sources appended)."""
        old = self.get(entry_id)
        text = self.validate_text(text)
        entry = old.model_copy(
            update={
                "text": text,
                "updated_at": time if time is not None else old.updated_at,
                "source_fact_ids": _merged(old.source_fact_ids, source_fact_ids),
                "source_turn_ids": _merged(old.source_turn_ids, source_turn_ids),
                "history": (
                    *old.history,
                    HistoryRecord(op=Op.UPDATE, old_text=old.text, new_text=text, step=step),
                ),
            }
        )
        if self.retriever is not None and text != old.text:
            self.retriever.update(entry_id, text, old.namespace)
        self._entries[entry_id] = entry
        self._count(old.namespace, 0, old.text, -1)
        self._count(old.namespace, 0, text)
        self._record(Op.UPDATE, entry, old.text, text, step)
        return entry

    def delete(self, entry_id: str, *, step: int | None = None) -> MemoryEntry:
        """Remove an entry and return it as it was."""
        entry = self.get(entry_id)
        if self.retriever is not None:
            self.retriever.remove(entry_id, entry.namespace)
        del self._entries[entry_id]
        self._count(entry.namespace, -1, entry.text, -1)
        self._record(Op.DELETE, entry, entry.text, None, step)
        return entry

    def noop(self, entry_id: str | None = None, *, step: int | None = None) -> None:
        """Record that a fact changed nothing (optionally naming the memory that covers it)."""
        entry = None
        if entry_id is not None:
            entry = self.get(entry_id)
            noted = HistoryRecord(op=Op.NOOP, old_text=entry.text, new_text=entry.text, step=step)
            self._entries[entry_id] = entry.model_copy(update={"history": (*entry.history, noted)})
        self._record(Op.NOOP, entry, None, None, step)

    def validate_text(self, text: str) -> str:
        """The stripped text this bank would store; MemoryBankError if it is empty or too long."""
        if not isinstance(text, str):
            raise MemoryBankError(f"memory text must be a string, got {type(text).__name__}")
        stripped = text.strip()
        if not stripped:
            raise MemoryBankError("memory text is empty")
        if len(stripped) > self.max_text_chars:
            raise MemoryBankError(
                f"memory text has {len(stripped)} characters, over the maximum of "
                f"{self.max_text_chars}"
            )
        return stripped

    def _record(
        self, op: Op, entry: MemoryEntry | None, old: str | None, new: str | None, step: int | None
    ) -> None:
        self._log.append(
            LogRecord(
                op=op,
                entry_id=None if entry is None else entry.id,
                namespace=None if entry is None else entry.namespace,
                old_text=old,
                new_text=new,
                step=step,
            )
        )

    # -- state -----------------------------------------------------------------------------

    def snapshot(self) -> BankSnapshot:
        """An exact copy of the state; entries are immutable, so this is a shallow copy."""
        return BankSnapshot(
            entries=dict(self._entries),
            log=tuple(self._log),
            counter=self._counter,
            retriever=None if self.retriever is None else self.retriever.snapshot(),
        )

    def restore(self, snapshot: BankSnapshot) -> None:
        """Return to `snapshot` exactly (the same snapshot can be restored many times)."""
        self._entries = dict(snapshot.entries)
        self._log = list(snapshot.log)
        self._counter = snapshot.counter
        self._usage = None
        if self.retriever is not None:
            if snapshot.retriever is None:
                raise MemoryBankError("snapshot was taken without a retriever")
            self.retriever.restore(snapshot.retriever)

    def copy(self) -> MemoryBank:
        """An independent bank in the same state (retriever cloned, embedding cache shared)."""
        twin = MemoryBank(None if self.retriever is None else self.retriever.clone())
        twin.max_text_chars = self.max_text_chars
        twin._entries, twin._log, twin._counter = (
            dict(self._entries),
            list(self._log),
            self._counter,
        )
        twin._usage = None if self._usage is None else {k: list(v) for k, v in self._usage.items()}
        return twin

    def rebuild_index(self) -> None:
        """Index every live entry into the retriever (after a load or a retriever swap)."""
        if self.retriever is None:
            return
        for entry in self._entries.values():
            self.retriever.add(entry.id, entry.text, entry.namespace)

    @classmethod
    def from_state(
        cls,
        entries: Iterable[MemoryEntry],
        log: Iterable[LogRecord],
        counter: int,
        retriever: Retriever | None = None,
        max_text_chars: int = 2000,
    ) -> MemoryBank:
        """A bank holding exactly these entries and log, its retriever indexed from scratch."""
        bank = cls(retriever, max_text_chars)
        for entry in entries:
            bank.validate_text(entry.text)
            bank._entries[entry.id] = entry
        bank._log = list(log)
        bank._counter = counter
        bank.rebuild_index()
        return bank


def _merged(old: tuple[str, ...], new: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*old, *new)))
