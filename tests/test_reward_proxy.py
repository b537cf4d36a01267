"""The offline reward proxy (oracle_support) is honest: it reads what the reader reads, dates
included, within the reader's token budget, and a manager that glues facts together does not
beat storing them by more than the heuristic's related-fact merges do."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from memgym.agents.base import AskedQuestion, RetrievedMemory
from memgym.agents.context import fit_to_budget, prompt_overhead
from memgym.agents.prompts import memory_line
from memgym.agents.registry import make_answerer, make_manager
from memgym.config import MemoryConfig
from memgym.data import Dataset, load_dataset
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.facts import fact_stream
from memgym.metrics.lexical import exact_match
from memgym.tokens import count_tokens


def _oracle_em(dataset: Dataset, manager: str, config: MemoryConfig) -> float:
    scores = []
    for conversation in dataset.conversations:
        memory = ConversationMemory(conversation, config, embedding_cache_for(config))
        memory.run_manager(fact_stream(conversation, "dataset"), make_manager(manager))
        gold = {q.id: list(q.answers) for q in conversation.questions}
        answered = memory.answer(make_answerer("oracle_support", gold), conversation.questions)
        scores += [
            exact_match(a.text, list(q.answers))
            for q, (a, _) in zip(conversation.questions, answered, strict=True)
        ]
    return sum(scores) / len(scores)


def _gaming_gap(dataset: Dataset, config: MemoryConfig) -> tuple[float, float]:
    em = {m: _oracle_em(dataset, m, config) for m in ("add_all", "heuristic", "concat")}
    return em["concat"] - em["add_all"], em["heuristic"] - em["add_all"]


def test_concatenation_does_not_game_the_proxy_on_the_sample() -> None:
    concat_gain, heuristic_gain = _gaming_gap(load_dataset("locomo", split="all"), MemoryConfig())
    assert concat_gain <= heuristic_gain


@pytest.mark.slow
def test_concatenation_does_not_game_the_proxy_on_real_conv26(conv26_path: Path) -> None:
    dataset = load_dataset("locomo", conv26_path, "train")
    concat_gain, heuristic_gain = _gaming_gap(dataset, MemoryConfig())
    assert concat_gain <= heuristic_gain
    # Memory-R1's count cap (30 memories per speaker) is what packing exploits: recorded, not
    # hidden (see README, "The reward").
    capped_concat, capped_heuristic = _gaming_gap(dataset, MemoryConfig(answer_k=30))
    assert capped_concat > capped_heuristic


def test_temporal_answers_are_supported_by_the_memory_date() -> None:
    oracle = make_answerer("oracle_support", {"q": ["16 April 2023"]})
    question = AskedQuestion("q", "When did Andrew adopt Scout?", None, None, 2)
    dated = RetrievedMemory(
        0, "m1", "Andrew adopted a beagle named Scout.", "Andrew", datetime(2023, 4, 16), 1.0
    )
    assert oracle.answer(question, [dated]).text == "16 April 2023"
    other_day = RetrievedMemory(0, "m1", dated.text, "Andrew", datetime(2023, 4, 17), 1.0)
    assert oracle.answer(question, [other_day]).text == ""


def test_glued_facts_do_not_support_an_answer_split_across_them() -> None:
    oracle = make_answerer("oracle_support", {"q": ["Lyon violin"]})
    glued = RetrievedMemory(0, "m1", "Ann moved to Lyon; Bob plays the violin", "Ann", None, 1.0)
    assert oracle.answer(AskedQuestion("q", "?", None, None, 4), [glued]).text == ""


def test_the_reader_context_fills_the_token_budget_best_first_per_speaker() -> None:
    question = AskedQuestion("q", "Who?", None, None, 4)

    def ranked(speaker: str, n: int, words: int) -> list[RetrievedMemory]:
        text = " ".join(["word"] * words)
        return [RetrievedMemory(i, f"{speaker}{i}", text, speaker, None, 1.0) for i in range(n)]

    andrew, priya = ranked("Andrew", 40, 5), ranked("Priya", 40, 30)
    everything = fit_to_budget(question, [andrew, priya], 100_000)
    assert len(everything) == 80 and [m.slot for m in everything] == list(range(80))
    budget = 600
    kept = fit_to_budget(question, [andrew, priya], budget)
    per_speaker = {s: [m.id for m in kept if m.namespace == s] for s in ("Andrew", "Priya")}
    # Best first within each speaker; the short memories fit more often than the long ones.
    assert per_speaker["Andrew"] == [f"Andrew{i}" for i in range(len(per_speaker["Andrew"]))]
    assert len(per_speaker["Andrew"]) > len(per_speaker["Priya"]) > 0
    used = prompt_overhead(question, ["Andrew", "Priya"]) + sum(
        count_tokens(memory_line(m)) + 4 for m in kept
    )
    assert used <= budget
    assert count_tokens("Andrew adopted Buddy") == 3
