"""Versioned JSON files for memory banks: atomic writes, checksummed, validated on load.

The file is `{"format", "version", "sha256", "bank"}` where `sha256` covers the canonical JSON
of `bank`, so a file cut short or edited by hand is refused rather than half-trusted.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from memgym.errors import MemoryBankError
from memgym.io import atomic_write_json
from memgym.memory.bank import MemoryBank
from memgym.memory.operations import LogRecord, MemoryEntry
from memgym.retrieval.base import Retriever

FORMAT = "memgym.memory_bank"
VERSION = 1


class _BankData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_text_chars: int
    counter: int
    entries: list[MemoryEntry]
    log: list[LogRecord]


def _checksum(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def bank_to_dict(bank: MemoryBank) -> dict[str, Any]:
    """The file content for `bank`."""
    payload = _BankData(
        max_text_chars=bank.max_text_chars,
        counter=bank.counter,
        entries=bank.entries(),
        log=list(bank.log),
    ).model_dump(mode="json")
    return {"format": FORMAT, "version": VERSION, "sha256": _checksum(payload), "bank": payload}


def save_bank(bank: MemoryBank, path: str | Path) -> None:
    """Write the bank as JSON atomically (temp file, fsync, rename): a crash leaves the
    previous file whole."""
    atomic_write_json(Path(path), bank_to_dict(bank))


def load_bank(
    path: str | Path, retriever: Retriever | None = None, max_text_chars: int | None = None
) -> MemoryBank:
    """Validate and load a saved bank (never unpickles anything); MemoryBankError names the
    file and what is wrong. The retriever, if given, is indexed from scratch."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MemoryBankError(f"{path}: no such file") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MemoryBankError(f"{path}: not a complete JSON file ({exc})") from exc
    return bank_from_dict(raw, retriever, max_text_chars, str(path))


def bank_from_dict(
    raw: Any, retriever: Retriever | None, max_text_chars: int | None, source: str = "bank"
) -> MemoryBank:
    """Validate data made by `bank_to_dict`; MemoryBankError names `source` and the field."""
    path = source
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise MemoryBankError(f"{path}: not a memgym memory bank (field 'format')")
    if raw.get("version") != VERSION:
        raise MemoryBankError(
            f"{path}: field 'version' is {raw.get('version')!r}; expected {VERSION}"
        )
    payload = raw.get("bank")
    if raw.get("sha256") != _checksum(payload):
        raise MemoryBankError(
            f"{path}: checksum mismatch: the file was changed after it was written"
        )
    try:
        data = _BankData.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MemoryBankError(f"{path}: field 'bank.{where}': {first['msg']}") from exc
    ids = [e.id for e in data.entries]
    if len(set(ids)) != len(ids):
        raise MemoryBankError(f"{path}: field 'bank.entries': duplicate memory ids")
    if any(e.seq > data.counter for e in data.entries):
        raise MemoryBankError(f"{path}: field 'bank.counter': smaller than an entry's seq")
    return MemoryBank.from_state(
        data.entries, data.log, data.counter, retriever, max_text_chars or data.max_text_chars
    )
