"""MSC loading: self-instruct DMR lines and raw ParlAI sessions; personas never reach memory."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from memgym.data import detect_layout, load_dataset, sample_path
from memgym.data.msc import MSC_ANCHOR


def test_previous_dialogs_and_dialog_become_alternating_sessions() -> None:
    conv = load_dataset("msc").conversations[0]
    assert conv.speakers == ("Speaker 1", "Speaker 2")
    assert len(conv.sessions) == 3
    assert [t.speaker for t in conv.sessions[0].turns] == ["Speaker 1", "Speaker 2"] * 2
    assert conv.sessions[0].turns[0].text.startswith("Hi! I just got back from a fishing trip")


def test_session_times_derive_from_time_back_on_a_synthetic_clock() -> None:
    conv = load_dataset("msc").conversations[0]
    times = [s.time for s in conv.sessions]
    assert times[-1] == MSC_ANCHOR
    assert times[0] == MSC_ANCHOR - timedelta(days=14, hours=2)
    assert times[1] == MSC_ANCHOR - timedelta(days=7)
    assert conv.sessions[0].time_raw == "14 days 2 hours ago"


def test_self_instruct_pair_is_the_question() -> None:
    q = load_dataset("msc").conversations[1].questions[0]
    assert (q.text, q.answers, q.category) == (
        "What are my kittens called?",
        ("Salt and Pepper",),
        "dmr",
    )


def test_personas_and_summaries_never_reach_the_conversation() -> None:
    lines = [json.loads(line) for line in sample_path("msc").read_text().splitlines()]
    for raw, conv in zip(lines, load_dataset("msc").conversations, strict=True):
        dumped = conv.model_dump_json()
        for persona in (p for speaker in raw["personas"] for p in speaker):
            assert persona not in dumped
        assert raw["summary_speaker_1"] not in dumped


def test_time_num_and_unit_are_used_without_time_back(tmp_path: Path) -> None:
    raw = json.loads(sample_path("msc").read_text().splitlines()[0])
    for p in raw["previous_dialogs"]:
        del p["time_back"]
    path = tmp_path / "msc.jsonl"
    path.write_text(json.dumps(raw) + "\n")
    conv = load_dataset("msc", path).conversations[0]
    assert [MSC_ANCHOR - s.time for s in conv.sessions if s.time] == [
        timedelta(days=14),
        timedelta(days=7),
        timedelta(0),
    ]


def test_raw_parlai_sessions_load_without_questions(tmp_path: Path) -> None:
    record = {
        "personas": [["I like tea."], ["I have a dog."]],
        "dialog": [
            {"id": "Speaker 1", "text": "Tea time!"},
            {"id": "Speaker 2", "text": "My dog agrees."},
        ],
        "previous_dialogs": [
            {
                "personas": [[], []],
                "dialog": [{"text": "Hello"}, {"text": "Hi there"}],
                "time_num": 3,
                "time_unit": "days",
            }
        ],
        "metadata": {"initial_data_id": "train_7", "session_id": 2},
    }
    path = tmp_path / "train.txt"
    path.write_text(json.dumps(record) + "\n")
    assert detect_layout(path) == ("msc", "raw")
    (conv,) = load_dataset("msc", path).conversations
    assert conv.id == "train_7/2" and conv.questions == ()
    assert [t.text for t in conv.turns()] == ["Hello", "Hi there", "Tea time!", "My dog agrees."]
    assert "I like tea." not in conv.model_dump_json()
