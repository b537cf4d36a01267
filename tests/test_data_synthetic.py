"""Synthetic LongMemEval: real-format files at any scale, deterministic, evidence findable."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from memgym.data import Conversation, Dataset, detect_layout, load_dataset, validate
from memgym.data.categories import LONGMEMEVAL_TYPES
from memgym.data.synthetic import generate_longmemeval, write_longmemeval
from memgym.data.times import parse_longmemeval_time
from memgym.retrieval import BM25Retriever

INSTANCES, SESSIONS, TURNS = 96, 5, 4


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("synthetic") / "longmemeval_synthetic.json"
    write_longmemeval(file, INSTANCES, SESSIONS, TURNS, seed=3)
    return file


@pytest.fixture(scope="module")
def dataset(path: Path) -> Dataset:
    return load_dataset("longmemeval", path)


def answered(dataset: Dataset, qtype: str) -> list[tuple[Conversation, str, tuple[str, ...]]]:
    """(conversation, answer, evidence turn ids) of the non-abstention questions of `qtype`."""
    return [
        (c, q.answers[0], q.evidence_turn_ids)
        for c in dataset.conversations
        for q in c.questions
        if q.category == qtype and not q.abstention
    ]


def test_file_loads_clean_as_longmemeval_with_the_requested_counts(
    path: Path, dataset: Dataset
) -> None:
    assert detect_layout(path) == ("longmemeval", "synthetic")
    assert dataset.warnings == ()
    assert validate(path) == []
    assert len(dataset.conversations) == INSTANCES
    for conversation in dataset.conversations:
        assert len(conversation.sessions) == SESSIONS
        assert all(len(s.turns) == TURNS for s in conversation.sessions)
        assert [t.speaker for t in conversation.sessions[0].turns] == ["user", "assistant"] * 2


def test_every_record_says_it_is_synthetic(dataset: Dataset) -> None:
    for conversation in dataset.conversations:
        assert conversation.id.startswith("synthetic-")
        assert all(s.id.startswith("synthetic-") for s in conversation.sessions)


def test_every_question_type_is_present_and_one_in_sixteen_abstains(dataset: Dataset) -> None:
    questions = list(dataset.questions())
    assert {q.category for q in questions} == set(LONGMEMEVAL_TYPES)
    abstentions = [q for q in questions if q.abstention]
    assert len(abstentions) == INSTANCES // 16
    for q in abstentions:
        assert q.id.endswith("_abs")
        assert q.answers[0].startswith("The information provided is not enough")
        assert q.evidence_turn_ids == q.evidence_session_ids == ()


def test_single_session_user_evidence_is_a_user_turn_holding_the_answer(
    dataset: Dataset,
) -> None:
    cases = answered(dataset, "single-session-user")
    assert cases
    for conversation, answer, evidence in cases:
        turns = {t.id: t for t in conversation.turns()}
        assert evidence
        assert all(turns[e].speaker == "user" and answer in turns[e].text for e in evidence)


def test_knowledge_update_answers_with_the_newer_of_two_values(dataset: Dataset) -> None:
    for conversation, answer, evidence in answered(dataset, "knowledge-update"):
        turns = {t.id: t for t in conversation.turns()}
        older, newer = (turns[e] for e in evidence)
        assert older.session_id != newer.session_id
        assert answer in newer.text and answer not in older.text


def test_multi_session_counts_its_evidence_sessions(path: Path, dataset: Dataset) -> None:
    raw = {r["question_id"]: r for r in json.loads(path.read_text())}
    for conversation, answer, evidence in answered(dataset, "multi-session"):
        assert isinstance(raw[conversation.id]["answer"], int)
        (question,) = conversation.questions
        assert int(answer) == len(evidence) == len(question.evidence_session_ids) in (2, 3)


def test_temporal_answer_is_the_days_between_the_evidence_sessions(dataset: Dataset) -> None:
    for conversation, answer, _ in answered(dataset, "temporal-reasoning"):
        (question,) = conversation.questions
        first, second = (
            next(s.time for s in conversation.sessions if s.id == sid)
            for sid in question.evidence_session_ids
        )
        assert first is not None and second is not None
        assert answer == f"{(second.date() - first.date()).days} days"


def test_single_session_assistant_flags_the_reply_holding_the_answer(path: Path) -> None:
    for record in json.loads(path.read_text()):
        if record["question_type"] != "single-session-assistant" or "_abs" in record["question_id"]:
            continue
        flagged = [t for s in record["haystack_sessions"] for t in s if t.get("has_answer")]
        assert [t["role"] for t in flagged] == ["assistant"]
        assert record["answer"] in flagged[0]["content"]


def test_bm25_over_user_turns_ranks_single_session_user_evidence_first(
    dataset: Dataset,
) -> None:
    for conversation, _, evidence in answered(dataset, "single-session-user"):
        retriever = BM25Retriever()
        for turn in conversation.turns():
            if turn.speaker == "user":
                retriever.add(turn.id, turn.text, "c")
        (question,) = conversation.questions
        assert retriever.search(question.text, 1, "c")[0][0] == evidence[0]


def test_some_instances_list_sessions_out_of_date_order(path: Path, dataset: Dataset) -> None:
    records = json.loads(path.read_text())
    unsorted = [
        r
        for r in records
        if [parse_longmemeval_time(d) for d in r["haystack_dates"]]
        != sorted(parse_longmemeval_time(d) for d in r["haystack_dates"])
    ]
    assert len(unsorted) == INSTANCES // 8
    reordered = [
        c for c in dataset.conversations if any(s.index != s.source_index for s in c.sessions)
    ]
    assert [c.id for c in reordered] == [r["question_id"] for r in unsorted]


def test_turns_have_about_the_requested_number_of_words() -> None:
    (record,) = generate_longmemeval(1, 3, 6, seed=0, words_per_turn=40)
    lengths = [len(t["content"].split()) for s in record["haystack_sessions"] for t in s]
    assert min(lengths) >= 40
    assert max(lengths) < 60


def test_same_arguments_give_the_same_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    a, b, c = (tmp_path / name for name in ("a.json", "b.json", "c.json"))
    write_longmemeval(a, 20, 4, 4, seed=7)
    write_longmemeval(b, 20, 4, 4, seed=7)
    write_longmemeval(c, 20, 4, 4, seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_the_file_is_the_generated_records_and_its_size_is_returned(tmp_path: Path) -> None:
    file = tmp_path / "longmemeval_synthetic.json"
    size = write_longmemeval(file, 5, 3, 2, seed=1, words_per_turn=5)
    assert size == file.stat().st_size
    assert json.loads(file.read_text()) == list(generate_longmemeval(5, 3, 2, 1, 5))


def test_writing_holds_one_record_in_memory_not_the_file(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        size = write_longmemeval(tmp_path / "longmemeval_synthetic.json", 250, 6, 10, seed=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 2_500_000
    assert peak < size / 10


@pytest.mark.parametrize(
    ("sessions", "turns", "words"), [(2, 4, 20), (3, 1, 20), (3, 2, 0)], ids=str
)
def test_too_few_sessions_turns_or_words_are_refused(sessions: int, turns: int, words: int) -> None:
    with pytest.raises(ValueError, match="must be >="):
        generate_longmemeval(1, sessions, turns, words_per_turn=words)
