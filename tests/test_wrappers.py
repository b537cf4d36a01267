"""Wrappers: each passes check_env around the envs its spaces allow, and does its one thing."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import memgym  # noqa: F401
from memgym.agents.offline import supports
from memgym.agents.salience import salience_score
from memgym.envs import AnswerAgentEnv, MemoryManagerEnv
from memgym.tokens import count_tokens
from memgym.wrappers import (
    AnswerMetricReward,
    ChatObservation,
    DiscreteOperation,
    FeatureObservation,
    FormatReward,
    KeepOrSkip,
    ScaleReward,
    SupportShapedReward,
    TextAction,
)


def _manager(**kwargs: Any) -> MemoryManagerEnv:
    return MemoryManagerEnv(retriever="bm25", **kwargs)


def _capacity(capacity: float = 0.25) -> MemoryManagerEnv:
    return _manager(fact_source="turns", split="all", memory_capacity=capacity)


def _answer(**kwargs: Any) -> AnswerAgentEnv:
    return AnswerAgentEnv(retriever="bm25", **kwargs)


pytestmark = pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")


@pytest.mark.parametrize(
    "build",
    [
        lambda: ChatObservation(_manager()),
        lambda: ChatObservation(_answer()),
        lambda: TextAction(ChatObservation(_manager())),
        lambda: FormatReward(_manager()),
        lambda: FormatReward(_answer()),
        lambda: ScaleReward(_manager(), 10.0),
        lambda: AnswerMetricReward(_answer(), "f1"),
        lambda: FeatureObservation(_manager()),
        lambda: DiscreteOperation(FeatureObservation(_manager())),
        lambda: KeepOrSkip(FeatureObservation(_capacity(), features="capacity")),
        lambda: SupportShapedReward(KeepOrSkip(_capacity())),
    ],
)
def test_every_wrapper_passes_check_env(build: Any) -> None:
    check_env(build(), skip_render_check=True)


@pytest.mark.parametrize(
    "env_id", ["MemoryManagerEnv-text-v0", "AnswerAgentEnv-text-v0", "MemoryManagerEnv-features-v0"]
)
def test_registered_variants(env_id: str) -> None:
    env = gym.make(env_id, retriever="bm25")
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)


def test_chat_observation_renders_memory_r1_prompts_with_delimited_memories() -> None:
    env = ChatObservation(_manager())
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    obs, *_ = env.step(
        {"op": 0, "target": 0, "text": "Andrew adopted a golden retriever named Buddy."}
    )
    system, user = obs["messages"]
    assert system["role"] == "system" and "ADD" in system["content"] and "JSON" in system["content"]
    assert "<memories>" in user["content"] and "</new_fact>" in user["content"]
    assert obs["prompt"].startswith("### system\n") and obs["prompt"].endswith("### assistant\n")
    answer = ChatObservation(_answer())
    obs, _ = answer.reset(seed=0, options={"question_id": "sample-1/q3"})  # a temporal question
    assert "**Answer:**" in obs["messages"][0]["content"]
    assert "approximate date" in obs["messages"][1]["content"]


def test_text_action_parses_completions_and_unreadable_ones_are_invalid_actions() -> None:
    env = TextAction(ChatObservation(_manager(invalid_action_penalty=-0.25)))
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    _, reward, _, _, info = env.step(
        '{"memory": [{"id": "new", "text": "Andrew has a dog", "event": "ADD"}]}'
    )
    assert info["parse"] == {"op": "ADD", "target": None, "text": "Andrew has a dog", "error": None}
    assert info["op"] == "ADD" and reward == 0.0
    _, reward, _, _, info = env.step("I would store this")
    assert info["parse"]["error"] and info["op"] == "NOOP" and reward == -0.25
    assert (
        info["invalid_action"]
        == info["parse"]["error"]
        == "no JSON operation or compact form found"
    )
    env.step("NONE")  # a fact of Priya's, whose bank is empty
    _, _, _, _, info = env.step("UPDATE 0: Andrew has a dog and lives in Denver")  # Andrew's again
    assert info["parse"]["op"] == "UPDATE" and info["op"] == "UPDATE" and info["entry_id"] == "m1"


def test_reward_wrappers() -> None:
    env = FormatReward(ScaleReward(_manager(invalid_action_penalty=-1.0), 2.0), bonus=0.5)
    env.reset(seed=0)
    assert env.step({"op": 3, "target": 0, "text": ""})[1] == 0.5
    assert (
        env.step({"op": 1, "target": 0, "text": "x"})[1] == -2.0
    )  # invalid: no bonus, scaled penalty
    answer = AnswerMetricReward(_answer(), "f1")
    answer.reset(seed=0, options={"question_id": "sample-1/q0"})
    assert answer.step("golden retriever puppy")[1] == pytest.approx(0.8)


def test_feature_observation_and_discrete_operation_fill_texts() -> None:
    env = DiscreteOperation(FeatureObservation(_manager(observation_k=4)))
    obs, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    assert obs.shape == (4 * 6 + 5,) and obs.dtype == np.float32
    obs, *_ = env.step(np.array([0, 0]))  # ADD the fact
    obs, *_ = env.step(np.array([0, 0]))
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    assert base._memory.bank.get("m1").text == "Andrew adopted a golden retriever named Buddy."  # type: ignore[union-attr]
    fact = base.current_fact
    visible = base.visible_memories
    assert fact is not None and visible
    _, _, _, _, info = env.step(np.array([1, 0]))  # UPDATE slot 0 with a merge
    assert info["op"] == "UPDATE"
    merged = base._memory.bank.get(info["entry_id"]).text  # type: ignore[union-attr]
    assert merged == f"{visible[0].text.rstrip('.')}; {fact.text}"
    assert 0.0 < obs[1] <= 1.0 or obs[0] == 0.0


def test_wrappers_reject_the_wrong_env() -> None:
    with pytest.raises(TypeError, match="MemoryManagerEnv"):
        FeatureObservation(_answer())
    with pytest.raises(TypeError, match="MemoryManagerEnv"):
        TextAction(ChatObservation(_answer()))


def test_keep_or_skip_adds_what_fits_and_evicts_the_least_salient_shown_memory_when_full() -> None:
    env = KeepOrSkip(_capacity(0.1))
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    assert env.step(0)[4]["op"] == "NOOP"
    ops = []
    while base.current_fact is not None:
        bank = base.bank_state()
        assert bank is not None and bank.tokens_free is not None
        fits = count_tokens(base.current_fact.text.strip()) <= bank.tokens_free
        shown = [(salience_score(m.text, m.namespace), m.id) for m in base.visible_memories]
        info = env.step(1)[4]
        assert info.get("invalid_action") is None  # keeping never overflows the bank
        ops.append(info["op"])
        if fits:
            assert info["op"] == "ADD"
        elif info["op"] == "UPDATE":  # the evicted memory is the least salient shown one
            assert info["entry_id"] in {i for s, i in shown if s == min(shown)[0]}
    assert "ADD" in ops and "UPDATE" in ops


def test_support_shaped_reward_pays_each_step_what_it_changes_and_sums_to_the_supported_share() -> (
    None
):
    env = SupportShapedReward(KeepOrSkip(_capacity(0.5)))
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    questions = base.episode_questions
    assert questions and env.potential == 0.0
    total, paid_on_add, done = 0.0, [], False
    while not done:
        _, reward, done, _, info = env.step(1)
        total += float(reward)
        assert "env_reward" in info
        if reward > 0:
            paid_on_add.append(info["op"])
    memory = base.memory
    assert memory is not None
    supported = [
        q for q in questions if any(supports(q.answers, e.text, e.updated_at) for e in memory.bank)
    ]
    assert total == pytest.approx(len(supported) / len(questions)) and supported
    assert set(paid_on_add) <= {"ADD", "UPDATE"}
    # the proxy's own score counts the same questions when the whole bank reaches the reader
    assert info["episode_score"] <= total + 1e-9


def test_support_shaped_reward_scores_each_episode_on_its_own_questions() -> None:
    base = _manager(fact_source="turns", split="all", memory_capacity=0.5, episode="segment")
    env = SupportShapedReward(KeepOrSkip(base))
    same_conversation = [
        i for i, e in enumerate(base.plan.episodes) if e.conversation.id == "sample-1"
    ]
    assert len({base.plan.episodes[i].questions for i in same_conversation}) > 1
    for index in reversed(same_conversation):  # the later segment has more questions
        env.reset(seed=0, options={"episode_index": index})
        done = False
        while not done:
            done = env.step(1)[2]
        memory, questions = base.memory, base.episode_questions
        assert memory is not None
        supported = [
            q
            for q in questions
            if any(supports(q.answers, e.text, e.updated_at) for e in memory.bank)
        ]
        assert env.potential == pytest.approx(len(supported) / len(questions))
