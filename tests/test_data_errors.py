"""Defective input: record-level defects are warnings (file, record, field, what was done) and
the rest loads; file-level defects raise one DatasetError; `strict` makes warnings errors."""

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


def test_truncated_json_is_an_error_naming_the_file(tmp_path: Path) -> None:
    text = sample_path("locomo").read_text()
    path = tmp_path / "locomo10.json"
    path.write_text(text[:5000])  # inside the first record
    with pytest.raises(DatasetError, match=r"locomo10\.json: record 0: invalid JSON") as info:
        load_dataset("locomo", path)
    assert info.value.file == str(path)
    path.write_text(
        text[: len(text) * 3 // 4]
    )  # after whole records: they must not pass as the file
    with pytest.raises(DatasetError, match=r"invalid JSON after 2 usable records"):
        load_dataset("locomo", path)


def test_question_without_text_is_dropped_with_a_warning(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[2]["qa"][3].pop("question"))
    dataset = load_dataset("locomo", path)
    conversation = dataset.conversation_by_id["sample-3"]
    assert "sample-3/q3" not in {q.id for q in conversation.questions}
    (warning,) = [w for w in dataset.warnings if w.field == "qa[3].question"]
    assert (warning.record, warning.severity) == ("2 (sample-3)", "warning")
    assert warning.message == "missing required key; question dropped"


def test_strict_turns_every_warning_into_an_error(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[2]["qa"][3].pop("question"))
    with pytest.raises(DatasetError) as info:
        load_dataset("locomo", path, strict=True)
    assert any(p.field == "qa[3].question" for p in info.value.problems)
    with pytest.raises(DatasetError, match="int answer 2021"):
        load_dataset("locomo", strict=True)  # the bundled sample is as dirty as the release


def test_category_given_as_digit_string_is_read_with_a_warning(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[0]["qa"][1].update(category="4"))
    dataset = load_dataset("locomo", path)
    assert dataset.conversation_by_id["sample-1"].questions[1].category == 4
    assert any(
        w.field == "qa[1].category" and "read as an integer" in w.message for w in dataset.warnings
    )


def test_unknown_category_and_missing_answer_drop_only_their_question(tmp_path: Path) -> None:
    def edit(raw: list[dict[str, Any]]) -> None:
        raw[1]["qa"][0].pop("answer")
        raw[1]["qa"][1]["category"] = 9

    dataset = load_dataset("locomo", _locomo(tmp_path, edit))
    ids = {q.id for q in dataset.conversation_by_id["sample-2"].questions}
    assert "sample-2/q0" not in ids and "sample-2/q1" not in ids and "sample-2/q2" in ids
    messages = {w.field: w.message for w in dataset.warnings}
    assert messages["qa[0].answer"].endswith("only category 5 may omit it); question dropped")
    assert (
        messages["qa[1].category"]
        == "unknown category 9 (expected an integer 1-5); question dropped"
    )


def test_unusable_record_is_dropped_and_the_others_load(tmp_path: Path) -> None:
    path = _locomo(tmp_path, lambda raw: raw[1].pop("conversation"))
    dataset = load_dataset("locomo", path)
    assert [c.id for c in dataset.conversations] == ["sample-1", "sample-3", "sample-4"]
    assert any(
        (w.record, w.field, w.message)
        == ("1", "conversation", "missing required key; record dropped")
        for w in dataset.warnings
    )


def test_a_file_without_any_usable_record_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps([{"sample_id": "conv-1", "qa": []}]))
    with pytest.raises(DatasetError, match="no usable record") as info:
        load_dataset("locomo", path)
    assert info.value.problems[0].field == "conversation"


def test_unknown_layout_names_what_it_found(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text(json.dumps([{"foo": 1}]))
    with pytest.raises(DatasetError, match="unknown layout: record 0 has keys foo"):
        load_dataset("locomo", path)


def test_empty_list_and_byte_order_mark(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(DatasetError, match="empty list: no records"):
        load_dataset("locomo", empty)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + sample_path("locomo").read_bytes())
    dataset = load_dataset("locomo", bom)
    assert len(dataset.conversations) == 4
    assert dataset.warnings[0].message == "UTF-8 byte-order mark at the start; skipped"


def test_wrong_dataset_for_file() -> None:
    with pytest.raises(DatasetError, match="looks like longmemeval"):
        load_dataset("locomo", sample_path("longmemeval"))


def test_validate_lists_warnings_and_errors_with_file_record_and_field(tmp_path: Path) -> None:
    def break_three(raw: list[dict[str, Any]]) -> None:
        raw[0]["qa"][0]["category"] = 9
        raw[1]["conversation"]["session_2"][1].pop("speaker")
        raw[3]["conversation"]["session_1_date_time"] = "yesterday"

    path = _locomo(tmp_path, break_three)
    problems = validate(path)
    known = {(p.record, p.field, p.message) for p in validate(sample_path("locomo"))}
    added = [(p.record, p.field) for p in problems if (p.record, p.field, p.message) not in known]
    # Dropping turn D2:2 unlinks the evidence and the fact that named it: each is reported.
    assert added == [
        ("0 (sample-1)", "qa[0].category"),
        ("1 (sample-2)", "conversation.session_2[1].speaker"),
        ("1 (sample-2)", "qa[4].evidence[0]"),
        ("1 (sample-2)", "qa[4].evidence"),
        ("1 (sample-2)", "qa[7].evidence[0]"),
        ("1 (sample-2)", "qa[7].evidence"),
        ("1 (sample-2)", "observation.session_2_observation.Marcus[0]"),
        ("3 (sample-4)", "conversation.session_1_date_time"),
    ]
    assert {p.file for p in problems} == {str(path)}
    assert all(p.severity == "warning" for p in problems)


def test_longmemeval_bad_turn_is_dropped_and_named_by_question_id(tmp_path: Path) -> None:
    raw = json.loads(sample_path("longmemeval").read_text())
    raw[4]["haystack_sessions"][0][1]["role"] = 7
    path = tmp_path / "longmemeval_oracle.json"
    path.write_text(json.dumps(raw))
    dataset = load_dataset("longmemeval", path)
    (warning,) = [w for w in dataset.warnings if w.record == "4 (lme-ku-1)"]
    assert warning.field == "haystack_sessions[0][1].role"
    assert warning.message == "expected a string, got int; turn dropped"
    assert len(dataset.conversation_by_id["lme-ku-1"].sessions[0].turns) == 1


def test_longmemeval_truncated_stream_is_an_error_after_the_records_it_read(tmp_path: Path) -> None:
    text = sample_path("longmemeval").read_text()
    path = tmp_path / "longmemeval_s_cleaned.json"
    path.write_text(text[: len(text) // 2])
    problems = validate(path)
    assert problems[-1].severity == "error"
    assert "invalid JSON after" in problems[-1].message
    with pytest.raises(DatasetError):
        load_dataset("longmemeval", path)


def test_msc_bad_lines_are_dropped_and_named_by_line_number(tmp_path: Path) -> None:
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
    assert len(load_dataset("msc", path).conversations) == len(lines) - 2


def test_cli_validate_prints_severity_and_exits_by_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _locomo(tmp_path, lambda raw: raw[0]["qa"][0].update(evidence="D1:1"))
    assert main(["data", "validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "warning: " + str(path) + ": record 0 (sample-1): field 'qa[0].evidence': "
        "expected a list, got str; read as one evidence string"
    ) in out
    assert "0 errors, 12 warnings in" in out
    assert main(["data", "validate", "--strict", str(path)]) == 1
    truncated = tmp_path / "cut.json"
    truncated.write_text(path.read_text()[:3000])
    assert main(["data", "validate", str(truncated)]) == 1
    assert "error: " in capsys.readouterr().out


def test_loading_commands_summarise_warnings_once_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["data", "stats", "--dataset", "locomo", "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("data warnings") == 1
    assert "11 data warnings in" in captured.err
    assert json.loads(captured.out)["warnings"] == 11
    assert main(["data", "stats", "--dataset", "locomo", "--strict"]) == 2
