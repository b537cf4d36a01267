"""Saving and loading banks: exact round trips, refusing damaged files, atomic writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from memgym.errors import MemoryBankError
from memgym.memory import MemoryBank, load_bank, save_bank
from memgym.retrieval import BM25Retriever


def _bank() -> MemoryBank:
    bank = MemoryBank(BM25Retriever(), max_text_chars=500)
    bank.add(
        "Andrew adopted Buddy",
        "Andrew",
        time=datetime(2023, 3, 3, 14, 15),
        source_turn_ids=["D1:1"],
        step=0,
    )
    bank.add("Priya is a nurse", "Priya", source_fact_ids=["f1"], step=1)
    bank.update("m1", "Andrew adopted Buddy and Scout", time=datetime(2023, 4, 17), step=2)
    bank.add("Andrew lives in Denver", "Andrew", step=3)
    bank.delete("m3", step=4)
    bank.noop(step=5)
    return bank


def test_round_trip_is_exact(tmp_path: Path) -> None:
    bank = _bank()
    path = tmp_path / "bank.json"
    save_bank(bank, path)
    loaded = load_bank(path, BM25Retriever())
    assert loaded.entries() == bank.entries()
    assert loaded.log == bank.log and loaded.counter == bank.counter
    assert loaded.max_text_chars == 500
    assert [(s.entry.id, s.score) for s in loaded.search("Andrew Scout", 3, "Andrew")] == [
        (s.entry.id, s.score) for s in bank.search("Andrew Scout", 3, "Andrew")
    ]
    assert loaded.add("next").id == "m4"


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    save_bank(_bank(), path)
    path.write_text(path.read_text()[:-40])
    with pytest.raises(MemoryBankError, match=r"bank\.json: not a complete JSON file"):
        load_bank(path)


def test_hand_edited_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    save_bank(_bank(), path)
    raw = json.loads(path.read_text())
    raw["bank"]["entries"][0]["text"] = "Andrew adopted a cat"
    path.write_text(json.dumps(raw))
    with pytest.raises(MemoryBankError, match="checksum mismatch"):
        load_bank(path)


def test_wrong_format_version_and_invalid_fields(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(MemoryBankError, match="not a memgym memory bank"):
        load_bank(path)
    save_bank(_bank(), path)
    raw = json.loads(path.read_text())
    raw["version"] = 99
    path.write_text(json.dumps(raw))
    with pytest.raises(MemoryBankError, match="field 'version' is 99"):
        load_bank(path)
    from memgym.memory.persistence import _checksum

    raw["version"] = 1
    raw["bank"]["entries"][0]["seq"] = "first"
    raw["sha256"] = _checksum(raw["bank"])
    path.write_text(json.dumps(raw))
    with pytest.raises(MemoryBankError, match=r"field 'bank\.entries\.0\.seq'"):
        load_bank(path)


_SAVER = """
import sys
from memgym.memory import MemoryBank, save_bank
bank = MemoryBank(max_text_chars=10000)
for i in range(3000):
    bank.add(f"memory number {i} " + "x" * 200)
print("ready", flush=True)
while True:
    save_bank(bank, sys.argv[1])
"""


def test_kill_during_save_leaves_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "bank.json"
    save_bank(_bank(), path)
    for delay in (0.05, 0.2, 0.35):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)], stdout=subprocess.PIPE)
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        loaded = load_bank(path)  # either the old bank or a complete new one
        assert len(loaded) in (2, 3000)
