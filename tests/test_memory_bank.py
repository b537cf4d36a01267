"""MemoryBank: validated operations, history, namespaces, snapshots and copies."""

from __future__ import annotations

from datetime import datetime

import pytest

from memgym.errors import MemoryBankError
from memgym.memory import MemoryBank, Op
from memgym.retrieval import BM25Retriever


def test_add_update_delete_noop_with_history_and_log() -> None:
    bank = MemoryBank()
    t0, t1 = datetime(2023, 5, 1), datetime(2023, 6, 1)
    buddy = bank.add(
        "Andrew adopted a dog named Buddy", "Andrew", time=t0, source_turn_ids=["D1:1"], step=0
    )
    assert (buddy.id, buddy.namespace, buddy.created_at) == ("m1", "Andrew", t0)
    merged = bank.update(
        "m1", "Andrew adopted two dogs, Buddy and Scout", time=t1, source_turn_ids=["D2:1"], step=4
    )
    assert merged.id == "m1" and merged.created_at == t0 and merged.updated_at == t1
    assert merged.source_turn_ids == ("D1:1", "D2:1")
    assert [(h.op, h.old_text, h.new_text, h.step) for h in merged.history] == [
        (Op.ADD, None, "Andrew adopted a dog named Buddy", 0),
        (
            Op.UPDATE,
            "Andrew adopted a dog named Buddy",
            "Andrew adopted two dogs, Buddy and Scout",
            4,
        ),
    ]
    bank.noop("m1", step=5)
    assert bank.get("m1").history[-1].op == Op.NOOP
    gone = bank.delete("m1", step=6)
    assert gone.text == "Andrew adopted two dogs, Buddy and Scout"
    assert "m1" not in bank and len(bank) == 0
    assert [r.op for r in bank.log] == [Op.ADD, Op.UPDATE, Op.NOOP, Op.DELETE]
    assert bank.add("new").id == "m2"  # ids are never reused


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.update("m9", "text"), "no memory with id 'm9'"),
        (lambda b: b.delete("m9"), "no memory with id 'm9'"),
        (lambda b: b.noop("m9"), "no memory with id 'm9'"),
        (lambda b: b.add("   "), "memory text is empty"),
        (lambda b: b.update("m1", ""), "memory text is empty"),
        (lambda b: b.add("x" * 51), "51 characters, over the maximum of 50"),
        (lambda b: b.add("ok", ""), "namespace"),
    ],
)
def test_invalid_operations_raise_and_change_nothing(call, message: str) -> None:  # type: ignore[no-untyped-def]
    bank = MemoryBank(BM25Retriever(), max_text_chars=50)
    bank.add("Buddy is a golden retriever")
    before = bank.snapshot()
    with pytest.raises(MemoryBankError, match=message):
        call(bank)
    assert bank.entries() == list(before.entries.values()) and bank.log == before.log
    assert [s.entry.id for s in bank.search("golden retriever", 5)] == ["m1"]


def test_namespaces_keep_speakers_apart() -> None:
    bank = MemoryBank(BM25Retriever())
    bank.add("Caroline went to a support group", "Caroline")
    bank.add("Melanie painted a sunrise", "Melanie")
    bank.add("Melanie went camping with her kids", "Melanie")
    assert bank.namespaces() == ["Caroline", "Melanie"]
    assert [e.id for e in bank.entries("Melanie")] == ["m2", "m3"]
    assert [s.entry.id for s in bank.search("went", 10, "Caroline")] == ["m1"]
    assert bank.search("went", 10, "Nobody") == []


def test_search_without_retriever_is_a_clear_error() -> None:
    with pytest.raises(MemoryBankError, match="no retriever"):
        MemoryBank().search("x", 3)


def test_snapshot_restore_is_exact_and_repeatable() -> None:
    bank = MemoryBank(BM25Retriever())
    for text in ["dog Buddy", "cat Pixel", "dog Scout"]:
        bank.add(text)
    snap = bank.snapshot()
    expected = [(s.entry.id, s.score) for s in bank.search("dog", 3)]
    for branch in ("first", "second"):
        bank.update("m1", f"{branch} rewrite about birds")
        bank.delete("m3")
        bank.add("dog dog dog")
        bank.restore(snap)
        assert [(s.entry.id, s.score) for s in bank.search("dog", 3)] == expected
        assert bank.counter == 3 and len(bank.log) == 3


def test_copy_is_independent() -> None:
    bank = MemoryBank(BM25Retriever())
    for text in ("dog Buddy", "bird Tweety", "fish Nemo"):
        bank.add(text)
    twin = bank.copy()
    twin.update("m1", "cat Pixel")
    twin.add("dog Scout")
    assert [s.entry.text for s in bank.search("dog", 1)] == ["dog Buddy"]
    assert [s.entry.text for s in twin.search("dog", 1)] == ["dog Scout"]
    assert len(bank) == 3 and bank.get("m1").text == "dog Buddy"


def test_op_parsing_accepts_mem0_spelling() -> None:
    assert [Op.parse(x) for x in ("add", "UPDATE", " delete ", "NONE", "noop", 0)] == [
        Op.ADD,
        Op.UPDATE,
        Op.DELETE,
        Op.NOOP,
        Op.NOOP,
        Op.ADD,
    ]
