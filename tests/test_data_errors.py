"""Malformed input: one error type naming file, record and field; validate lists every problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgym.cli import main
from memgym.data import load_dataset, sample_path, validate
from memgym.errors import DatasetError


def _locomo(tmp_path: Path, edit: Any = None) -> Path:
    raw = json.loads(sample_path("locomo").read_text())
    if edit:
        edit(raw)
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps(raw))
    return path


def test_truncated_json_names_file_and_position(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_text(sample_path("locomo").read_text()[:5000])
    with pytest.raises(DatasetError, match=r"locomo10\.json: .*invalid JSON") as info:
        load_dataset("locomo", path)
    assert info.value.file == str(path)


def test_missing_required_key_names_record_and_field(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[2]["qa"][3].pop("question"))
    with pytest.raises(DatasetError) as info:
        load_dataset("locomo", path)
    assert (info.value.record, info.value.field) == ("2 (sample-3)", "qa[3].question")
    assert "missing required key" in str(info.value)


def test_wrong_type_is_reported_with_expected_and_actual(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[0]["qa"][1].update(category="4"))
    with pytest.raises(
        DatasetError,
        match=r"record 0 \(sample-1\): field 'qa\[1\]\.category': expected an integer, got str",
    ):
        load_dataset("locomo", path)


def test_missing_answer_outside_category5_is_an_error(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[1]["qa"][0].pop("answer"))
    with pytest.raises(DatasetError, match=r"qa\[0\]\.answer"):
        load_dataset("locomo", path)


def test_unknown_layout(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps([{"foo": 1}]))
    with pytest.raises(DatasetError, match="unknown layout"):
        load_dataset("locomo", path)


def test_wrong_dataset_for_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="looks like longmemeval"):
        load_dataset("locomo", sample_path("longmemeval"))


def test_validate_lists_every_problem(tmp_path: Path) -> None:
    def break_three(raw: list[dict[str, Any]]) -> None:
        raw[0]["qa"][0]["category"] = 9
        raw[1]["conversation"]["session_2"][1].pop("speaker")
        raw[3]["conversation"]["session_1_date_time"] = "yesterday"

    problems = validate(_locomo(tmp_path, break_three))
    assert [(p.record, p.field) for p in problems] == [
        ("0 (sample-1)", "qa[0].category"),
        ("1 (sample-2)", "conversation.session_2[1].speaker"),
        ("3 (sample-4)", "conversation.session_1_date_time"),
    ]
    assert validate(sample_path("locomo")) == []


def test_longmemeval_bad_instance_names_question_id(tmp_path: Path) -> None:
    raw = json.loads(sample_path("longmemeval").read_text())
    raw[4]["haystack_sessions"][0][1]["role"] = 7
    path = tmp_path / "longmemeval_oracle.json"
    path.write_text(json.dumps(raw))
    (problem,) = validate(path)
    assert problem.record == "4 (lme-ku-1)"
    assert problem.field == "haystack_sessions[0][1].role"


def test_longmemeval_truncated_stream_keeps_earlier_problems(tmp_path: Path) -> None:
    text = sample_path("longmemeval").read_text()
    path = tmp_path / "longmemeval_s_cleaned.json"
    path.write_text(text[: len(text) // 2])
    problems = validate(path)
    assert problems and "invalid JSON" in problems[-1].message


def test_msc_bad_line_is_named_by_line_number(tmp_path: Path) -> None:
    lines = sample_path("msc").read_text().splitlines()
    lines[1] = lines[1][:40]
    record = json.loads(lines[2])
    del record["self_instruct"]["A"]
    lines[2] = json.dumps(record)
    path = tmp_path / "msc_self_instruct.jsonl"
    path.write_text("\n".join(lines))
    assert [(p.record, p.field) for p in validate(path)] == [
        ("line 2", None),
        ("line 3", "self_instruct.A"),
    ]


def test_cli_validate_exit_code_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _locomo(tmp_path, lambda raw: raw[0]["qa"][0].update(evidence="D1:1"))
    assert main(["data", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "record 0 (sample-1): field 'qa[0].evidence': expected a list, got str" in out
    assert "1 problem in" in out
    assert main(["data", "validate", str(sample_path("locomo"))]) == 0
