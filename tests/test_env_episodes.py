"""Episodes: Memory-R1's per-question training tuples, pinned on a hand-built conversation and
checked on the real conv-26; the counterfactual (per-operation) credit."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from memgym.cli import main
from memgym.data import Conversation, Dataset, Fact, Question, Session, Turn, load_dataset
from memgym.envs import MemoryManagerEnv
from memgym.envs.episodes import plan_episodes

TURNS = {
    "D1:1": ("Ann", "I adopted a cat called Tom."),
    "D1:2": ("Bob", "Nice! I am learning the violin."),
    "D1:3": ("Ann", "I moved to Lyon last week."),
    "D1:4": ("Bob", "Lyon is lovely."),
    "D2:1": ("Ann", "Tom knocked over my plant."),
    "D2:2": ("Bob", "My violin teacher is called Mira."),
    "D2:3": ("Ann", "Say hi to Mira."),
}
# LoCoMo publishes facts for some turns only.
FACTS = {
    "D1:1": "Ann adopted a cat named Tom.",
    "D1:3": "Ann moved to Lyon.",
    "D2:1": "Tom is Ann's cat.",
}


def _conversation() -> Conversation:
    sessions = []
    for n, date in ((1, datetime(2023, 5, 1)), (2, datetime(2023, 5, 8))):
        ids = [t for t in TURNS if t.startswith(f"D{n}:")]
        turns = tuple(
            Turn(id=t, session_id=f"session_{n}", index=i, speaker=TURNS[t][0], text=TURNS[t][1])
            for i, t in enumerate(ids)
        )
        sessions.append(
            Session(id=f"session_{n}", index=n - 1, time=date, time_raw=None, turns=turns)
        )
    facts = tuple(
        Fact(
            id=f"c/f{i}",
            text=text,
            speaker=TURNS[turn][0],
            session_id=f"session_{turn[1]}",
            time=sessions[int(turn[1]) - 1].time,
            time_raw=None,
            source_turn_ids=(turn,),
        )
        for i, (turn, text) in enumerate(FACTS.items())
    )

    def question(i: int, text: str, answer: str, evidence: tuple[str, ...]) -> Question:
        return Question(
            id=f"c/q{i}",
            conversation_id="c",
            text=text,
            answers=(answer,),
            category=4,
            category_name="single-hop",
            evidence_turn_ids=evidence,
        )

    questions = (
        question(0, "Where did Ann move?", "Lyon", ("D1:3",)),
        question(
            1, "What is the name of Ann's cat and Bob's teacher?", "Tom, Mira", ("D1:1", "D2:2")
        ),
        question(2, "Who teaches Bob the violin?", "Mira", ("D2:2",)),
        question(3, "Does Ann like cats?", "Yes", ()),
    )
    return Conversation(
        id="c", speakers=("Ann", "Bob"), sessions=tuple(sessions), questions=questions, facts=facts
    )


def test_tuples_are_built_per_question_as_memory_r1_describes() -> None:
    plan = plan_episodes([_conversation()], "dataset", "window", window=1)
    first, second = plan.episodes
    # q0 completes at D1:3: the bank holds the one preceding turn, which has no published fact,
    # so the turn itself is the fact; the policy handles D1:3's fact.
    assert first.window_turn == "D1:3"
    assert [(f.source_turn_ids, f.text) for f in first.prefix] == [
        (("D1:2",), "Nice! I am learning the violin.")
    ]
    assert [f.text for f in first.facts] == ["Ann moved to Lyon."]
    assert [q.id for q in first.questions] == ["c/q0"]
    # q1 and q2 complete at D2:2 (no published fact: the turn is the policy's fact); the bank
    # holds the window (D2:1) and q1's earlier evidence D1:1, in conversation order.
    assert second.window_turn == "D2:2"
    assert [f.text for f in second.prefix] == ["Ann adopted a cat named Tom.", "Tom is Ann's cat."]
    assert [f.text for f in second.facts] == ["My violin teacher is called Mira."]
    assert [q.id for q in second.questions] == ["c/q1", "c/q2"]
    assert second.arrival == (0, 0)
    summary = plan.describe()
    assert summary["questions_in_episodes"] + summary["questions_skipped"] == 4
    assert summary["skipped"] == [
        {"question_id": "c/q3", "reason": "no evidence turn in the conversation"}
    ]
    assert summary["evidence_outside_bank"] == 0


def test_window_zero_keeps_only_the_evidence_turns() -> None:
    second = plan_episodes([_conversation()], "dataset", "window", window=0).episodes[1]
    assert [f.source_turn_ids for f in second.prefix] == [("D1:1",)]


def test_real_conv26_tuples_account_for_all_152_training_questions(conv26_path: Path) -> None:
    dataset = load_dataset("locomo", conv26_path, "train")
    summary = plan_episodes(dataset.conversations, "dataset", "window").describe()
    assert summary["questions_in_episodes"] + summary["questions_skipped"] == 152
    assert summary["evidence_outside_bank"] == 0
    assert {s["reason"] for s in summary["skipped"]} == {"no evidence turn in the conversation"}
    assert summary["questions_skipped"] == 2  # the two questions with empty evidence


def test_data_stats_reports_the_tuples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "stats", "--split", "all", "--episodes", "window", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    episodes = stats["episodes"]
    assert episodes["questions_in_episodes"] + episodes["questions_skipped"] == stats["questions"]
    assert episodes["evidence_outside_bank"] == 0


def _dogs() -> Dataset:
    turns = [
        ("D1:1", "session_1", datetime(2023, 5, 1), "Andrew adopted a dog named Buddy."),
        ("D2:1", "session_2", datetime(2023, 5, 9), "Andrew adopted another dog named Scout."),
    ]
    sessions = tuple(
        Session(
            id=sid,
            index=i,
            time=time,
            time_raw=None,
            turns=(Turn(id=tid, session_id=sid, index=0, speaker="Andrew", text=text),),
        )
        for i, (tid, sid, time, text) in enumerate(turns)
    )
    question = Question(
        id="dogs/q0",
        conversation_id="dogs",
        text="What are the names of Andrew's dogs?",
        answers=("Buddy, Scout",),
        category=1,
        category_name="multi-hop",
        evidence_turn_ids=("D1:1", "D2:1"),
    )
    conversation = Conversation(
        id="dogs", speakers=("Andrew", "Priya"), sessions=sessions, questions=(question,)
    )
    return Dataset(
        name="locomo",
        variant="hand-built",
        split="all",
        source="test",
        content_hash="dogs",
        conversations=(conversation,),
    )


def _dogs_env() -> MemoryManagerEnv:
    return MemoryManagerEnv(
        _dogs(),
        fact_source="turns",
        retriever="bm25",
        answerer="extractive",
        metric="mem0_f1",
        reward_schedule="counterfactual",
    )


def test_counterfactual_credit_on_memory_r1s_dogs_example() -> None:
    env = _dogs_env()
    env.reset(seed=0)
    _, reward, *_ = env.step({"op": 0, "target": 0, "text": "Andrew adopted a dog named Buddy."})
    assert reward == 0.0  # no question has arrived yet
    merge = env.fork()
    _, update_credit, *_, update_info = merge.step(
        {"op": 1, "target": 0, "text": "Andrew adopted two dogs, Buddy and Scout."}
    )
    delete = env.fork()
    _, delete_credit, *_, delete_info = delete.step({"op": 2, "target": 0, "text": ""})
    assert update_credit > 0 > delete_credit
    # The step schedule's reward rides along, so a trainer can mix the two.
    assert set(update_info["reward_components"]) == {"step", "counterfactual", "penalty"}
    assert update_info["questions"][0]["answer"] == "adopted two Buddy Scout"
    assert delete_info["questions"][0]["answer"] == ""


def test_counterfactual_credit_is_the_score_of_the_op_minus_the_score_of_noop() -> None:
    env = MemoryManagerEnv(
        split="all",
        retriever="bm25",
        answerer="extractive",
        metric="mem0_f1",
        reward_schedule="counterfactual",
    )
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    step, terminated = 0, False
    while not terminated:
        noop = env.fork()
        _, _, _, _, noop_info = noop.step({"op": 3, "target": -1, "text": ""})
        fact = env.current_fact
        assert fact is not None
        action = {"op": 0 if step % 3 else 1, "target": 0, "text": fact.text}
        _, reward, terminated, _, info = env.step(action)
        expected = 0.0 if info["invalid_action"] else info["potential"] - noop_info["potential"]
        assert info["reward_components"]["counterfactual"] == pytest.approx(expected, abs=1e-12)
        assert reward == pytest.approx(expected + info["reward_components"]["penalty"])
        step += 1
