"""Segment episodes: K consecutive facts of a conversation, starting from the bank a reference
manager (salience) built from every earlier fact under the same capacity, scored by the
questions whose evidence has arrived by the segment's end. Training and evaluation of LLM
managers use the same episodes."""

from __future__ import annotations

import json
import warnings

import pytest
from gymnasium.utils.env_checker import check_env

from memgym.agents.capacity import SalienceManager
from memgym.config import MemoryConfig
from memgym.engine import ConversationMemory
from memgym.envs import MemoryManagerEnv
from memgym.facts import evidence_step


def _env(length: int = 4, **kwargs: object) -> MemoryManagerEnv:
    settings: dict[str, object] = {
        "split": "all",
        "fact_source": "turns",
        "retriever": "bm25",
        "memory_capacity": 0.25,
        "episode": "segment",
        "segment_length": length,
        **kwargs,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return MemoryManagerEnv(**settings)  # type: ignore[arg-type]


def test_segments_cut_each_stream_and_score_the_questions_arrived_by_their_end() -> None:
    env = _env(4)
    assert env.episodes > 0
    for episode in env.plan.episodes:
        stream = env.plan.streams[episode.conversation.id]
        offset, total = episode.position
        assert total == len(stream) and 1 <= len(episode.facts) <= 4 and offset % 4 == 0
        assert episode.prefix == stream[:offset]
        assert episode.facts == stream[offset : offset + len(episode.facts)]
        end = offset + len(episode.facts) - 1
        expected = [
            q
            for q in episode.conversation.questions
            if (step := evidence_step(list(stream), q.evidence_turn_ids)) is not None
            and step <= end
        ]
        assert list(episode.questions) == expected and expected
        assert all(0 <= a < len(episode.facts) for a in episode.arrival)
    assert env.describe()["reference_manager"]["name"] == "salience"


def test_a_segment_starts_from_salience_bank_of_everything_before_it_under_the_capacity() -> None:
    env = _env(4)
    index = max(range(env.episodes), key=lambda i: env.plan.episodes[i].position[0])
    episode = env.plan.episodes[index]
    env.reset(seed=0, options={"episode_index": index})
    stream = env.plan.streams[episode.conversation.id]
    memory = ConversationMemory(
        episode.conversation, MemoryConfig(retriever="bm25", memory_capacity=0.25), facts=stream
    )
    memory.run_manager(episode.prefix, SalienceManager(), n_facts=len(stream))
    assert env.memory is not None
    assert [e.text for e in env.memory.bank.entries()] == [e.text for e in memory.bank.entries()]
    assert len(memory.bank) > 0
    bank = env.bank_state()
    assert bank is not None
    assert (bank.step, bank.n_facts) == (episode.position[0], len(stream))
    observation = env.observation()
    assert int(observation["bank"]["position"]) == episode.position[0]
    assert int(observation["step"]) == 0  # the position in the episode


def test_segment_episodes_pass_the_env_contract() -> None:
    env = _env(4)
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=3)
    first = env.get_state()
    twin = env.fork()
    restored = _env(4)
    restored.reset(seed=0)
    restored.set_state(json.loads(json.dumps(first)))
    action = {"op": 0, "target": 0, "text": observation["fact"]}
    results = [e.step(action) for e in (env, twin, restored)]
    assert results[0][1] == results[1][1] == results[2][1]
    assert results[0][4]["capacity"] == results[2][4]["capacity"]
    with pytest.raises(ValueError, match="episode_kind"):
        _env(4, episode="conversation").set_state(first)


def test_segment_length_must_be_positive() -> None:
    with pytest.raises(ValueError, match="segment_length"):
        _env(0)
