"""Trainer adapters, called exactly as the trainers call them (no GPU, no weights, no TRL)."""

from __future__ import annotations

import inspect
import json

import pytest

from memgym.integrations.reward_function import MemoryReward, state_rows, verl_compute_score
from memgym.integrations.trl import MemoryToolEnvironment, environment_reward, episode_rows

ENV = {"retriever": "bm25"}


def test_trl_rows_and_environment_factory_contract() -> None:
    rows = episode_rows(**ENV)
    assert rows and {"prompt", "episode_index", "env_kwargs"} <= set(rows[0])
    assert rows[0]["prompt"][0]["role"] == "user" and "<new_fact" in rows[0]["prompt"][0]["content"]
    # The trainer instantiates the factory with no arguments, one instance per rollout.
    environments = [MemoryToolEnvironment(**ENV) for _ in range(2)]
    tools = [
        name
        for name, member in inspect.getmembers(MemoryToolEnvironment, inspect.isfunction)
        if not name.startswith("_") and name not in ("reset", "get_reward")
    ]
    assert sorted(tools) == ["add_memory", "delete_memory", "keep_memory", "update_memory"]
    for name in tools:
        doc = inspect.getdoc(getattr(MemoryToolEnvironment, name))
        assert doc and ("Args:" in doc or name == "keep_memory")
        hints = inspect.get_annotations(getattr(MemoryToolEnvironment, name), eval_str=True)
        assert hints.get("return") is str
    first = environments[0].reset(**rows[0])
    second = environments[1].reset(**rows[0])
    assert first == second and "<memories>" in first
    # One rollout stores the fact, the other ignores it; rewards differ accordingly.
    fact = first.split("<new_fact")[1].split(">\n", 1)[1].split("\n</new_fact>")[0]
    while "ended" not in (reply := environments[0].add_memory(fact)):
        fact = reply.split("<new_fact")[1].split(">\n", 1)[1].split("\n</new_fact>")[0]
    while "ended" not in environments[1].keep_memory():
        pass
    rewards = environment_reward(environments)
    assert rewards[0] > rewards[1] == 0.0


def test_trl_tool_errors_are_returned_as_text() -> None:
    env = MemoryToolEnvironment(**ENV)
    row = episode_rows(**ENV)[0]
    env.reset(**row)
    reply = env.update_memory(7, "x")
    assert reply.startswith("error: target slot 7")
    assert (
        MemoryToolEnvironment(**ENV).add_memory("x") == "error: the environment has not been reset"
    )


def test_grpo_group_of_four_completions_is_scored_from_one_restored_state() -> None:
    rows = state_rows(**ENV)
    assert rows and set(rows[0]) == {"prompt", "state"}
    json.loads(rows[0]["state"])
    reward = MemoryReward(**ENV)
    row = next(r for r in rows if "Buddy" in r["prompt"][1]["content"].split("<new_fact")[1])
    fact = (
        row["prompt"][1]["content"]
        .split("<new_fact")[1]
        .split(">\n", 1)[1]
        .split("\n</new_fact>")[0]
    )
    group = [
        json.dumps({"memory": [{"id": "new", "text": fact, "event": "ADD"}]}),
        '{"memory": [{"id": "0", "text": "", "event": "NONE"}]}',
        [{"role": "assistant", "content": f"ADD: {fact}"}],  # conversational completion
        "no idea what to do",
    ]
    scores = reward(completions=group, state=[row["state"]] * 4, prompts=[row["prompt"]] * 4)
    assert scores[0] == scores[2]  # same operation, same score
    assert scores[0] > scores[1]  # dropping the evidence loses the question
    assert scores[3] == pytest.approx(scores[1] - 0.1)  # unparseable: NOOP plus the format penalty
    assert (
        reward(completions=group, state=[row["state"]] * 4) == scores
    )  # restores exactly, every time


def test_verl_signature() -> None:
    row = state_rows(**ENV)[0]
    score = verl_compute_score("memgym", "NONE", None, {"state": row["state"], "env_kwargs": ENV})
    assert 0.0 <= score <= 1.0


def test_verifiers_gym_env_contract_without_verifiers() -> None:
    """Drive the env exactly as verifiers' GymEnv does: build, reset(seed), text, step(reply)."""
    from memgym.integrations.verifiers import gym_env_arguments, load_environment

    arguments = gym_env_arguments(**ENV)
    env = arguments["env_cls"](**arguments["env_kwargs"])
    observation, info = env.reset(seed=3)
    text = arguments["obs_to_text"](observation)
    assert text.startswith("<memories>") and "<new_fact" in text
    assert "JSON" in arguments["system_prompt"]
    total, done = 0.0, False
    while not done:
        fact = text.split(">\n", 1)[1].split("\n</new_fact>")[0] if "<new_fact" in text else ""
        observation, reward, terminated, truncated, info = env.step(f"ADD: {fact}")
        assert isinstance(reward, float) and isinstance(info, dict)
        total += reward
        done = terminated or truncated
        text = arguments["obs_to_text"](observation)
    assert total >= 0.0
    try:
        import verifiers  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install verifiers"):
            load_environment(**ENV)
