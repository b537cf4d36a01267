"""Offline agents: the heuristic manager's rules, random and concatenating managers, the
extractive reader, the oracle_support proxy, and the registry."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from memgym.agents import (
    AddAllManager,
    AskedQuestion,
    ConcatManager,
    ExtractiveAnswerer,
    HeuristicManager,
    HeuristicThresholds,
    NoopManager,
    OracleSupportAnswerer,
    RandomManager,
    RetrievedMemory,
    make_answerer,
    make_manager,
)
from memgym.data import Fact
from memgym.memory import Op


def _fact(text: str, speaker: str = "Andrew") -> Fact:
    return Fact(
        id="f",
        text=text,
        speaker=speaker,
        session_id="s",
        time=None,
        time_raw=None,
        source_turn_ids=("D1:1",),
    )


def _memories(*texts: str) -> list[RetrievedMemory]:
    return [
        RetrievedMemory(
            slot=i, id=f"m{i + 1}", text=t, namespace="Andrew", time=datetime(2023, 5, 7), score=1.0
        )
        for i, t in enumerate(texts)
    ]


def test_add_all_and_noop() -> None:
    fact = _fact("Andrew adopted a dog named Buddy.")
    assert AddAllManager().decide(fact, []).op == Op.ADD
    assert AddAllManager().decide(fact, []).text == fact.text
    assert NoopManager().decide(fact, _memories("x")).op == Op.NOOP


class TestHeuristic:
    manager = HeuristicManager()

    def test_unrelated_fact_is_added(self) -> None:
        decision = self.manager.decide(
            _fact("Andrew started pottery classes."), _memories("Andrew adopted a dog named Buddy.")
        )
        assert (decision.op, decision.text) == (Op.ADD, "Andrew started pottery classes.")

    def test_near_duplicate_is_noop_on_that_memory(self) -> None:
        decision = self.manager.decide(
            _fact("Andrew adopted a dog, Buddy."),
            _memories("Andrew likes tea.", "Andrew adopted a dog named Buddy."),
        )
        assert (decision.op, decision.target) == (Op.NOOP, 1)

    def test_new_detail_on_same_subject_updates_with_a_merge_keeping_both(self) -> None:
        decision = self.manager.decide(
            _fact("Andrew adopted another dog, a beagle named Scout."),
            _memories("Andrew adopted a dog named Buddy."),
        )
        assert decision.op == Op.UPDATE and decision.target == 0
        assert (
            decision.text
            == "Andrew adopted a dog named Buddy; Andrew adopted another dog, a beagle named Scout."
        )

    def test_negation_of_a_stored_fact_deletes_it(self) -> None:
        decision = self.manager.decide(
            _fact("Andrew no longer works at the bakery."),
            _memories("Andrew works at the bakery on Pine Street."),
        )
        assert (decision.op, decision.target) == (Op.DELETE, 0)

    def test_thresholds_are_tunable(self) -> None:
        strict = HeuristicManager(HeuristicThresholds(duplicate=1.01, related=1.01))
        decision = strict.decide(
            _fact("Andrew adopted a dog called Buddy."),
            _memories("Andrew adopted a dog named Buddy."),
        )
        assert decision.op == Op.ADD
        assert dataclasses.asdict(HeuristicThresholds()) == {
            "duplicate": 0.8,
            "related": 0.34,
            "max_merged_words": 40,
        }

    def test_overlong_merge_becomes_add(self) -> None:
        manager = HeuristicManager(HeuristicThresholds(max_merged_words=8))
        decision = manager.decide(
            _fact("Andrew adopted another dog named Scout."),
            _memories("Andrew adopted a dog named Buddy."),
        )
        assert decision.op == Op.ADD


def _question(text: str, qid: str = "q1", category: int = 4) -> AskedQuestion:
    return AskedQuestion(qid, text, datetime(2023, 6, 1), "1 June 2023", category)


def test_asked_question_carries_no_gold_answer() -> None:
    fields = {f.name for f in dataclasses.fields(AskedQuestion)}
    assert fields == {"id", "text", "time", "time_raw", "category"}


def test_extractive_reader_returns_the_new_words_of_the_best_memory() -> None:
    memories = _memories(
        "Priya works as a nurse at St. Mary's hospital.",
        "Andrew adopted a golden retriever named Buddy.",
    )
    answer = ExtractiveAnswerer().answer(_question("What kind of dog did Andrew adopt?"), memories)
    assert answer.text == "golden retriever named Buddy"
    assert answer.selected == (1,)


def test_extractive_reader_answers_when_questions_with_the_memory_date() -> None:
    answer = ExtractiveAnswerer().answer(
        _question("When did Andrew adopt Buddy?"), _memories("Andrew adopted Buddy.")
    )
    assert answer.text == "7 May 2023"


def test_extractive_reader_with_nothing_relevant_says_nothing() -> None:
    assert (
        ExtractiveAnswerer()
        .answer(_question("Where is Paris?"), _memories("Andrew adopted Buddy."))
        .text
        == ""
    )
    assert ExtractiveAnswerer().answer(_question("Where is Paris?"), []).text == ""


def test_oracle_support_answers_gold_only_when_recoverable() -> None:
    oracle = OracleSupportAnswerer({"q1": ["Buddy, Scout"]})
    assert oracle.oracle is True
    both = _memories("Andrew adopted Buddy.", "Andrew adopted Scout too.")
    assert oracle.answer(_question("Dogs?"), both).text == "Buddy, Scout"
    assert oracle.answer(_question("Dogs?"), both[:1]).text == ""
    assert oracle.answer(_question("Dogs?", qid="unknown"), both).text == ""


def test_oracle_support_reads_memory_dates_as_the_answer_prompt_shows_them() -> None:
    oracle = OracleSupportAnswerer({"q1": ["7 May 2023"], "q2": ["2"]})
    memories = _memories("Andrew adopted Buddy.", "Andrew walks Buddy daily.", "Andrew bakes.")
    assert oracle.answer(_question("When did Andrew adopt Buddy?"), memories).text == "7 May 2023"
    # Slot ids are prompt scaffolding: "[2]" never supports the answer "2".
    assert oracle.answer(_question("How many dogs?", qid="q2"), memories).text == ""


def test_concat_manager_merges_into_the_top_memory_within_the_word_limit() -> None:
    manager = ConcatManager(max_words=12)
    fact = _fact("Andrew adopted Scout.")
    decision = manager.decide(fact, _memories("Andrew adopted Buddy."))
    assert (decision.op, decision.target) == (Op.UPDATE, 0)
    assert decision.text == "Andrew adopted Buddy; Andrew adopted Scout."
    long = _memories("Andrew adopted Buddy and walks him in the park daily.")
    assert manager.decide(fact, long).op == Op.ADD
    assert manager.decide(fact, []).op == Op.ADD


def test_random_manager_is_seeded() -> None:
    fact = _fact("Andrew adopted Scout.")
    memories = _memories("Andrew adopted Buddy.", "Andrew bakes bread.")
    runs = [[RandomManager(seed=3).decide(fact, memories) for _ in range(1)] for _ in range(2)]
    assert runs[0] == runs[1]
    ops = {RandomManager(seed=s).decide(fact, memories).op for s in range(40)}
    assert ops == set(Op)


def test_registry_by_name_and_module_callable() -> None:
    assert make_manager("heuristic").name == "heuristic"
    assert make_manager("concat").name == "concat" and make_manager("random").name == "random"
    assert make_manager("memgym.agents.offline:AddAllManager").name == "add_all"
    assert make_answerer("extractive").name == "extractive"
    with pytest.raises(ValueError, match="needs the gold answers"):
        make_answerer("oracle_support")
    with pytest.warns(DeprecationWarning, match="renamed 'oracle_support'"):
        assert make_answerer("support", gold={}).name == "oracle_support"
    with pytest.raises(ValueError, match="needs a model"):
        make_manager("llm")
    with pytest.raises(TypeError, match="has no decide, decide_batch"):
        make_manager("memgym.agents.offline:ExtractiveAnswerer")
    with pytest.raises(ValueError, match="unknown manager"):
        make_manager("smart")


def test_batched_calls_equal_single_calls() -> None:
    manager = HeuristicManager()
    items = [
        (_fact("Andrew adopted Scout."), _memories("Andrew adopted Buddy.")),
        (_fact("Andrew paints."), []),
    ]
    assert manager.decide_batch(items) == [manager.decide(f, m) for f, m in items]
