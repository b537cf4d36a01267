"""Property tests: any sequence of operations, snapshots and restores leaves the bank and its
retriever equal to a bank rebuilt from scratch from the live entries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memgym.errors import MemoryBankError
from memgym.memory import MemoryBank
from memgym.retrieval import (
    BM25Retriever,
    DenseRetriever,
    HashingEmbedder,
    HybridRetriever,
    Retriever,
)

VOCAB = ["dog", "cat", "buddy", "scout", "paint", "run", "marathon", "boulder", "denver", "nurse"]
_text = st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6).map(" ".join)
_op = st.one_of(
    st.tuples(st.just("add"), _text, st.sampled_from(["A", "B"])),
    st.tuples(st.just("update"), st.integers(0, 30), _text),
    st.tuples(st.just("delete"), st.integers(0, 30)),
    st.tuples(st.just("noop"), st.integers(0, 30)),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("restore"), st.integers(0, 5)),
)

RETRIEVERS: dict[str, Callable[[], Retriever]] = {
    "bm25": BM25Retriever,
    "dense-exact": lambda: DenseRetriever(HashingEmbedder(64)),
    "dense-hnsw": lambda: DenseRetriever(HashingEmbedder(64), index="hnsw"),
    "hybrid": lambda: HybridRetriever(BM25Retriever(), DenseRetriever(HashingEmbedder(64))),
}


def _apply(bank: MemoryBank, ops: list[tuple], snapshots: list) -> None:  # type: ignore[type-arg]
    for op in ops:
        live = [e.id for e in bank.entries()]
        if op[0] == "add":
            bank.add(op[1], op[2])
        elif op[0] in ("update", "delete", "noop") and live:
            target = live[op[1] % len(live)]
            if op[0] == "update":
                bank.update(target, op[2])
            elif op[0] == "delete":
                bank.delete(target)
            else:
                bank.noop(target)
        elif op[0] == "snapshot":
            snapshots.append(bank.snapshot())
        elif op[0] == "restore" and snapshots:
            bank.restore(snapshots[op[1] % len(snapshots)])


@pytest.mark.parametrize("kind", list(RETRIEVERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, max_size=40), queries=st.lists(_text, min_size=1, max_size=4))
def test_incremental_state_equals_rebuild(kind: str, ops: list[tuple], queries: list[str]) -> None:  # type: ignore[type-arg]
    bank = MemoryBank(RETRIEVERS[kind]())
    _apply(bank, ops, [])
    rebuilt = MemoryBank.from_state(bank.entries(), bank.log, bank.counter, RETRIEVERS[kind]())
    assert [(e.id, e.text, e.namespace) for e in rebuilt] == [
        (e.id, e.text, e.namespace) for e in bank
    ]
    for query in queries:
        for namespace in ("A", "B"):
            got = bank.search(query, 5, namespace)
            want = rebuilt.search(query, 5, namespace)
            if kind == "dense-hnsw":
                assert [s.score for s in got] == pytest.approx([s.score for s in want], abs=1e-6)
            else:
                assert [(s.entry.id, s.score) for s in got] == [(s.entry.id, s.score) for s in want]


@pytest.mark.parametrize("kind", list(RETRIEVERS))
@settings(max_examples=40, deadline=None)
@given(before=st.lists(_op, max_size=25), after=st.lists(_op, max_size=25), query=_text)
def test_restored_bank_answers_exactly_as_at_snapshot(
    kind: str, before: list, after: list, query: str
) -> None:  # type: ignore[type-arg]
    bank = MemoryBank(RETRIEVERS[kind]())
    _apply(bank, before, [])
    snap = bank.snapshot()
    expected = [(s.entry, s.score) for ns in ("A", "B") for s in bank.search(query, 8, ns)]
    entries, log = bank.entries(), bank.log
    _apply(bank, after, [])
    bank.restore(snap)
    assert bank.entries() == entries and bank.log == log
    assert [(s.entry, s.score) for ns in ("A", "B") for s in bank.search(query, 8, ns)] == expected
    twin = bank.copy()
    _apply(twin, after, [])
    assert [(s.entry, s.score) for ns in ("A", "B") for s in bank.search(query, 8, ns)] == expected


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.integers(0, 3))
def test_text_validation_never_corrupts_state(text: str, target: int) -> None:
    bank = MemoryBank(BM25Retriever(), max_text_chars=40)
    bank.add("dog buddy")
    before = (bank.entries(), bank.log)
    for call in (lambda: bank.add(text), lambda: bank.update(f"m{target}", text)):
        try:
            call()
        except MemoryBankError:
            assert (bank.entries(), bank.log) == before
        before = (bank.entries(), bank.log)
