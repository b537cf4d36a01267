"""A real reader as MemoryManagerEnv's reward: the questions a step scores go to the reader in
one batch, answers are cached by reader, question and exact context (in process and on disk),
and a cached answer gives exactly the reward the reader's own answer gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import ServerState, fake_llm_server

from memgym.agents import answer_cache
from memgym.data import load_dataset
from memgym.envs import MemoryManagerEnv

EPISODES = 6
GOLDS = [(q.text, str(q.answers[0])) for q in load_dataset("locomo").questions()]


def _perfect_reader(body: dict[str, Any]) -> str:
    """Answers a question's gold answer when the memories in its prompt contain it."""
    prompt = body["messages"][-1]["content"]
    for question, gold in GOLDS:
        if question in prompt and gold.lower() in prompt.lower():
            return f"[0]\n**Answer:** {gold}"
    return "[0]\n**Answer:** I do not know"


def _env(url: str, cache_dir: Path) -> MemoryManagerEnv:
    return MemoryManagerEnv(
        retriever="bm25",
        split="all",
        episode="window",
        window=8,
        reward_schedule="step",
        answerer="llm",
        reader={"base_url": url, "model": "perfect"},
        reward_cache_dir=cache_dir,
        cache_stats_in_info=True,
    )


def _play(env: MemoryManagerEnv, batches: list[int]) -> tuple[list[float], list[int]]:
    """Rewards of storing every fact, and how many reader batches each step made."""
    rewards, per_step = [], []
    for index in range(EPISODES):
        env.reset(seed=index, options={"episode_index": index})
        done = False
        while not done:
            before = len(batches)
            action = {"op": 0, "target": 0, "text": env.current_fact.text}
            _, reward, done, _, _ = env.step(action)
            rewards.append(reward)
            per_step.append(len(batches) - before)
    return rewards, per_step


def _count_batches(env: MemoryManagerEnv, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    batches: list[int] = []
    inner = env.reader.inner
    ask = inner.answer_batch

    def counted(items: Any) -> Any:
        batches.append(len(items))
        return ask(items)

    monkeypatch.setattr(inner, "answer_batch", counted)
    return batches


def test_each_step_asks_the_reader_once_and_cached_answers_give_the_same_rewards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answer_cache, "_SHARED", {})
    state = ServerState(reply=_perfect_reader)
    with fake_llm_server(state) as url:
        env = _env(url, tmp_path)
        batches = _count_batches(env, monkeypatch)
        first, per_step = _play(env, batches)
        asked = len(state.requests)
        assert max(per_step) == 1  # all of a step's questions in one batch
        assert asked == sum(batches) > 0  # one request per question the cache lacked
        assert any(r > 0 for r in first) and any(r == 0 for r in first)

        again, per_step = _play(env, batches)  # the same episodes: every answer is cached
        assert again == first and sum(per_step) == 0 and len(state.requests) == asked

        monkeypatch.setattr(answer_cache, "_SHARED", {})  # as a new process sees the folder
        other = _env(url, tmp_path)
        reread, _ = _play(other, _count_batches(other, monkeypatch))
        assert reread == first and len(state.requests) == asked
        other.reset(seed=0, options={"episode_index": 0})
        _, _, _, _, info = other.step({"op": 0, "target": 0, "text": other.current_fact.text})
        assert info["reward_cache"]["hits"] > 0 and info["reward_cache"]["misses"] == 0
