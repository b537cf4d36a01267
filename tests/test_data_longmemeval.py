"""LongMemEval loading: one conversation per instance, evidence kept away from turns."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from memgym.data import detect_layout, load_dataset, sample_path
from memgym.data.categories import LONGMEMEVAL_TYPES


def test_every_question_type_and_abstention_are_present() -> None:
    ds = load_dataset("longmemeval")
    assert {q.category for q in ds.questions()} == set(LONGMEMEVAL_TYPES)
    abstention = [q for q in ds.questions() if q.abstention]
    assert [q.id for q in abstention] == ["lme-ms-2_abs"]


def test_instance_becomes_one_conversation_with_one_question() -> None:
    conv = load_dataset("longmemeval").conversation_by_id["lme-temp-1"]
    assert conv.speakers == ("user", "assistant")
    assert [s.id for s in conv.sessions] == ["answer_t1", "noise_d1", "answer_t2"]
    assert conv.sessions[0].time == datetime(2023, 8, 2, 9, 0)
    (q,) = conv.questions
    assert q.answers == ("9",)
    assert q.time == datetime(2023, 8, 20, 20, 0)
    assert q.evidence_session_ids == ("answer_t1", "answer_t2")


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
