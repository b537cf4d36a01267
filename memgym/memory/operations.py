"""Memory operations and the records a bank keeps of them."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum

from pydantic import BaseModel, ConfigDict


class Op(IntEnum):
    """The four memory operations; values are the env's Discrete(4) action ids."""

    ADD = 0
    UPDATE = 1
    DELETE = 2
    NOOP = 3

    @classmethod
    def parse(cls, value: str | int) -> Op:
        """Op from its name (case-insensitive; Mem0's NONE means NOOP) or its integer id."""
        if isinstance(value, int):
            return cls(value)
        name = value.strip().upper()
        return cls.NOOP if name == "NONE" else cls[name]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HistoryRecord(_Frozen):
    """One change to an entry (or a NOOP on it): what the text was and became, and when."""

    op: Op
    old_text: str | None
    new_text: str | None
    step: int | None = None


class MemoryEntry(_Frozen):
    """A stored memory. `id` is stable across UPDATEs; entries are immutable values."""

    id: str
    text: str
    namespace: str
    seq: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    source_fact_ids: tuple[str, ...] = ()
    source_turn_ids: tuple[str, ...] = ()
    history: tuple[HistoryRecord, ...] = ()


class LogRecord(_Frozen):
    """The bank's own log: every operation applied, DELETE and NOOP included."""

    op: Op
    entry_id: str | None
    namespace: str | None
    old_text: str | None
    new_text: str | None
    step: int | None = None
