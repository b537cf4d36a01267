"""LoCoMo loading: both layouts, every quirk of the real file, categories and splits."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from memgym.data import load_dataset, sample_path
from memgym.data.categories import category_label
from memgym.data.loading import detect_layout
from memgym.data.locomo import parse_dia_ids
from memgym.data.stats import dataset_stats


def _raw_sample() -> list[dict[str, Any]]:
    return json.loads(sample_path("locomo").read_text())


def _write_flat_layout(folder: Path, samples: list[dict[str, Any]]) -> None:
    """The older release: one file per conversation, keys flattened, no sample_id."""
    folder.mkdir()
    for number, s in enumerate(samples, start=41):
        flat = {**s["conversation"], "qa": s["qa"], **s["event_summary"], **s["observation"]}
        flat.update(s["session_summary"])
        (folder / f"{number}.json").write_text(json.dumps(flat))


def test_sample_loads_all_conversations_with_sessions_turns_and_facts() -> None:
    ds = load_dataset("locomo", include_adversarial=True)
    assert [c.id for c in ds.conversations] == ["sample-1", "sample-2", "sample-3", "sample-4"]
    first = ds.conversations[0]
    assert first.speakers == ("Andrew", "Priya")
    assert [len(s.turns) for s in first.sessions] == [8, 6, 6]
    assert first.sessions[0].time == datetime(2023, 3, 3, 14, 15)
    assert first.sessions[0].time_raw == "2:15 pm on 3 March, 2023"
    assert first.sessions[0].turns[0].id == "D1:1"
    assert len(first.facts) == 13


def test_orphan_date_keys_do_not_create_sessions() -> None:
    raw = _raw_sample()[0]["conversation"]
    assert "session_4_date_time" in raw and "session_4" not in raw
    assert len(load_dataset("locomo").conversations[0].sessions) == 3


def test_integer_answers_become_strings() -> None:
    q = next(q for q in load_dataset("locomo").questions() if "first marathon" in q.text)
    assert q.answers == ("2021",)


def test_category5_without_answer_keeps_adversarial_answer_and_is_excluded_by_default() -> None:
    with_adv = load_dataset("locomo", include_adversarial=True)
    adversarial = [q for q in with_adv.questions() if q.category == 5]
    assert adversarial and all(q.answers == () and q.abstention for q in adversarial)
    assert adversarial[0].adversarial_answer == "Buddy"
    assert all(q.category != 5 for q in load_dataset("locomo").questions())


def test_parse_dia_ids_reads_every_form_of_the_release() -> None:
    assert parse_dia_ids("D8:6; D9:17") == ["D8:6", "D9:17"]
    assert parse_dia_ids("D9:1 D4:4 D4:6") == ["D9:1", "D4:4", "D4:6"]
    assert parse_dia_ids("D30:05") == ["D30:5"]
    assert parse_dia_ids("D:11:26") == ["D11:26"]
    assert parse_dia_ids("D") == []


# What each quirk of the official release becomes in the bundled sample (same layout, same
# quirks): the evidence kept, and the warning (record, field, message) that says so.
EVIDENCE_QUIRKS = [
    (  # two ids in one string (conv-26 "D8:6; D9:17")
        "sample-1/q7",
        ("D1:5", "D3:3"),
        (
            "0 (sample-1)",
            "qa[7].evidence[0]",
            "non-standard evidence 'D1:5; D3:3'; read as D1:5, D3:3",
        ),
    ),
    (  # empty evidence list
        "sample-1/q8",
        (),
        ("0 (sample-1)", "qa[8].evidence", "no usable evidence; question kept, linked to no turn"),
    ),
    (  # a bare "D" beside valid ids (conv-42)
        "sample-2/q3",
        ("D1:4", "D2:4"),
        ("1 (sample-2)", "qa[3].evidence[1]", "unparseable evidence 'D'; ignored"),
    ),
    (  # an id of a turn that does not exist (conv-42 "D10:19", conv-47 "D4:36")
        "sample-2/q5",
        ("D3:4",),
        (
            "1 (sample-2)",
            "qa[5].evidence[1]",
            "evidence D3:19 names no turn of this conversation; ignored",
        ),
    ),
    (  # duplicates (conv-50 ["D4:5", "D4:5", "D5:5"])
        "sample-3/q2",
        ("D1:1", "D2:1"),
        ("2 (sample-3)", "qa[2].evidence[1]", "duplicate evidence D1:1; kept once"),
    ),
    (  # "D:11:26" (conv-43)
        "sample-3/q4",
        ("D2:6",),
        ("2 (sample-3)", "qa[4].evidence[0]", "non-standard evidence 'D:2:6'; read as D2:6"),
    ),
    (  # a leading zero (conv-50 "D30:05")
        "sample-3/q6",
        ("D3:2",),
        ("2 (sample-3)", "qa[6].evidence[0]", "non-standard evidence 'D3:02'; read as D3:2"),
    ),
    (  # space-separated ids (conv-49)
        "sample-4/q4",
        ("D1:1", "D3:3"),
        (
            "3 (sample-4)",
            "qa[4].evidence[0]",
            "non-standard evidence 'D1:1 D3:3'; read as D1:1, D3:3",
        ),
    ),
]


@pytest.mark.parametrize(("question_id", "kept", "warning"), EVIDENCE_QUIRKS)
def test_each_evidence_quirk_keeps_the_question_and_warns(
    question_id: str, kept: tuple[str, ...], warning: tuple[str, str, str]
) -> None:
    dataset = load_dataset("locomo")
    questions = {q.id: q for q in dataset.questions()}
    assert questions[question_id].evidence_turn_ids == kept
    assert warning in [(w.record, w.field, w.message) for w in dataset.warnings]


def test_sample_warnings_are_exactly_the_release_quirks() -> None:
    dataset = load_dataset("locomo", include_adversarial=True)
    integer_answers = [w for w in dataset.warnings if w.field and w.field.endswith(".answer")]
    assert [w.message for w in integer_answers] == [
        "int answer 2021; read as the string '2021'",
        "int answer 6; read as the string '6'",
        "int answer 2019; read as the string '2019'",
    ]
    assert len(dataset.warnings) == len(EVIDENCE_QUIRKS) + len(integer_answers)
    assert sum(len(c.questions) for c in dataset.conversations) == 36  # nothing dropped
    assert {w.file for w in dataset.warnings} == {str(sample_path("locomo"))}


def test_folder_holding_the_official_file_loads_it(tmp_path: Path) -> None:
    (tmp_path / "locomo10.json").write_bytes(sample_path("locomo").read_bytes())
    (tmp_path / "notes.json").mkdir()  # a folder named *.json is skipped with a warning
    dataset = load_dataset("locomo", tmp_path)
    assert [c.id for c in dataset.conversations] == ["sample-1", "sample-2", "sample-3", "sample-4"]
    assert any(w.message == "not a regular file; ignored" for w in dataset.warnings)


def test_list_valued_dia_ids_in_observations_keep_every_source_turn() -> None:
    facts = load_dataset("locomo").conversations[0].facts
    nurse = next(f for f in facts if "nurse" in f.text)
    assert nurse.source_turn_ids == ("D1:2", "D1:4")


def test_facts_follow_conversation_order_across_speakers() -> None:
    conversation = load_dataset("locomo").conversations[0]
    positions = [conversation.turn_position[f.source_turn_ids[0]] for f in conversation.facts]
    assert positions == sorted(positions)
    assert conversation.facts[0].id == "sample-1/f0"


def test_image_turn_keeps_caption_for_rendering() -> None:
    turn = next(t for t in load_dataset("locomo").conversations[0].turns() if t.image_caption)
    assert "golden retriever lying on grass" in turn.render()


def test_categories_use_locomo_meaning_with_mem0_as_second_naming() -> None:
    questions = list(load_dataset("locomo").questions())
    assert {q.category: q.category_name for q in questions} == {
        1: "multi-hop",
        2: "temporal",
        3: "open-domain",
        4: "single-hop",
    }
    assert category_label(1, "mem0") == "single-hop"
    assert category_label(3, "mem0") == "multi-hop"
    assert category_label(4, "mem0") == "open-domain"


def test_question_time_is_the_last_session_time() -> None:
    q = load_dataset("locomo").conversations[0].questions[0]
    assert q.time == datetime(2023, 6, 2, 19, 45)
    assert q.id == "sample-1/q0" and q.conversation_id == "sample-1"


def test_sample_splits_partition_the_conversations() -> None:
    ids = {
        s: [c.id for c in load_dataset("locomo", split=s).conversations]
        for s in ("train", "val", "test")
    }
    assert ids == {"train": ["sample-1"], "val": ["sample-2"], "test": ["sample-3", "sample-4"]}
    with pytest.raises(ValueError, match="unknown split"):
        load_dataset("locomo", split="dev")


def test_flat_per_file_layout_loads_the_same_content(tmp_path: Path) -> None:
    folder = tmp_path / "locomo10_v2"
    _write_flat_layout(folder, _raw_sample())
    assert detect_layout(folder) == ("locomo", "per-file")
    flat = load_dataset("locomo", folder, include_adversarial=True)
    official = load_dataset("locomo", include_adversarial=True)
    assert [c.id for c in flat.conversations] == ["conv-41", "conv-42", "conv-43", "conv-44"]
    for a, b in zip(flat.conversations, official.conversations, strict=True):
        assert a.sessions == b.sessions
        assert [f.text for f in a.facts] == [f.text for f in b.facts]
        assert [(q.text, q.answers, q.category) for q in a.questions] == [
            (q.text, q.answers, q.category) for q in b.questions
        ]
    single = load_dataset("locomo", folder / "42.json")
    assert [c.id for c in single.conversations] == ["conv-42"]


def test_content_hash_changes_with_content(tmp_path: Path) -> None:
    raw = _raw_sample()
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(raw))
    raw[0]["qa"][0]["answer"] = "poodle"
    b.write_text(json.dumps(raw))
    assert load_dataset("locomo", a).content_hash != load_dataset("locomo", b).content_hash


def test_real_conv26_matches_published_counts(conv26_path: Path) -> None:
    ds = load_dataset("locomo", conv26_path, include_adversarial=True)
    (conv,) = ds.conversations
    assert conv.id == "conv-26"
    assert len(conv.sessions) == 19
    assert sum(len(s.turns) for s in conv.sessions) == 419
    assert len(conv.questions) == 199
    assert len(conv.facts) == 184
    assert all(f.source_turn_ids and f.source_turn_ids[0] in conv.turn_position for f in conv.facts)
    train = load_dataset("locomo", conv26_path, split="train")
    assert Counter(q.category for q in train.questions()) == {1: 32, 2: 37, 3: 13, 4: 70}
    assert dataset_stats(train)["questions"] == 152


def test_real_locomo10_memory_r1_split(locomo10_path: Path) -> None:
    counts = {
        s: dataset_stats(load_dataset("locomo", locomo10_path, s)) for s in ("train", "val", "test")
    }
    assert [counts[s]["questions"] for s in ("train", "val", "test")] == [152, 81, 1307]
    assert counts["test"]["questions_by_category"] == {"1": 239, "2": 258, "3": 83, "4": 727}
    assert counts["test"]["conversations"] == 8
    with_adversarial = load_dataset("locomo", locomo10_path, "test", include_adversarial=True)
    assert Counter(q.category for q in with_adversarial.questions())[5] == 375
