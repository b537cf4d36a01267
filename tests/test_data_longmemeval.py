"""LongMemEval loading: one conversation per instance, evidence kept away from turns."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from memgym.data import detect_layout, load_dataset, sample_path
from memgym.data.categories import LONGMEMEVAL_TYPES
from memgym.data.longmemeval import parse_instance
from memgym.data.problems import ProblemLog


def test_every_question_type_and_abstention_are_present() -> None:
    ds = load_dataset("longmemeval")
    assert {q.category for q in ds.questions()} == set(LONGMEMEVAL_TYPES)
    abstention = [q for q in ds.questions() if q.abstention]
    assert [q.id for q in abstention] == ["lme-ms-2_abs"]


def test_instance_becomes_one_conversation_with_one_question() -> None:
    conv = load_dataset("longmemeval").conversation_by_id["lme-temp-1"]
    assert conv.speakers == ("user", "assistant")
    # The file lists noise_d1, answer_t2, answer_t1: sessions are put in date order, and the
    # file position of each is kept.
    assert [s.id for s in conv.sessions] == ["answer_t1", "noise_d1", "answer_t2"]
    assert [s.source_index for s in conv.sessions] == [2, 0, 1]
    assert [s.index for s in conv.sessions] == [0, 1, 2]
    assert conv.sessions[0].time == datetime(2023, 8, 2, 9, 0)
    (q,) = conv.questions
    assert q.answers == ("9",)
    assert q.time == datetime(2023, 8, 20, 20, 0)
    assert q.evidence_session_ids == ("answer_t1", "answer_t2")


def test_equal_dates_keep_file_order() -> None:
    raw = json.loads(sample_path("longmemeval").read_text())[0]
    raw["haystack_dates"] = ["2023/05/20 (Sat) 02:21"] * 3
    conversation = parse_instance(raw, "0", ProblemLog("x"))
    assert conversation is not None
    assert [s.id for s in conversation.sessions] == ["noise_a1", "answer_u1", "noise_a2"]


def test_repeated_session_id_keeps_its_link_to_answer_sessions() -> None:
    dataset = load_dataset("longmemeval")
    conversation = dataset.conversation_by_id["lme-ms-1"]
    (question,) = conversation.questions
    copies = [s for s in conversation.sessions if s.id == "answer_m1"]
    assert [s.source_index for s in copies] == [0, 3]
    assert all(s.id in question.evidence_session_ids for s in copies)
    assert question.evidence_turn_ids == ("answer_m1:0", "answer_m2:0", "answer_m1@3:0")
    (warning,) = dataset.warnings
    assert (warning.record, warning.field) == ("5 (lme-ms-1)", "haystack_session_ids[3]")


def test_abstention_is_any_id_containing_abs_and_answers_may_be_numbers() -> None:
    raw = json.loads(sample_path("longmemeval").read_text())[3]
    raw["question_id"] = "gpt4_abc_abs_2"
    conversation = parse_instance(raw, "3", ProblemLog("x"))
    assert conversation is not None
    (question,) = conversation.questions
    assert question.abstention and question.answers == ("9",)


def test_only_user_turns_flagged_has_answer_are_evidence() -> None:
    dataset = load_dataset("longmemeval")
    # lme-ssa-1 flags an assistant turn: the reference retrieval code indexes user turns only.
    assert dataset.conversation_by_id["lme-ssa-1"].questions[0].evidence_turn_ids == ()


def test_has_answer_becomes_evidence_and_never_reaches_a_turn() -> None:
    conv = load_dataset("longmemeval").conversation_by_id["lme-ssu-1"]
    assert conv.questions[0].evidence_turn_ids == ("answer_u1:0",)
    for turn in conv.turns():
        assert "has_answer" not in turn.model_dump()
        assert "has_answer" not in turn.model_dump_json()


@pytest.mark.parametrize(
    ("filename", "variant"),
    [
        ("longmemeval_oracle.json", "oracle"),
        ("longmemeval_s_cleaned.json", "s"),
        ("longmemeval_m_cleaned.json", "m"),
        ("longmemeval_s", "s"),
    ],
)
def test_official_file_names_are_recognised(tmp_path: Path, filename: str, variant: str) -> None:
    target = tmp_path / filename
    shutil.copy(sample_path("longmemeval"), target)
    assert detect_layout(target) == ("longmemeval", variant)
    assert len(load_dataset("longmemeval", target).conversations) == 7


def test_streaming_reader_does_not_load_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_json_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("LongMemEval must be streamed, not json.load-ed")

    monkeypatch.setattr(json, "load", no_json_load)
    monkeypatch.setattr(json, "loads", no_json_load)
    assert len(load_dataset("longmemeval").conversations) == 7


def test_all_instances_are_in_test_split() -> None:
    assert load_dataset("longmemeval", split="train").conversations == ()
    assert len(load_dataset("longmemeval", split="test").conversations) == 7
