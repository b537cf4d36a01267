"""Trainer adapters, called exactly as the trainers call them (no GPU, no weights, no TRL)."""

from __future__ import annotations

import inspect
import json

import pytest

from memgym.integrations.reward_function import MemoryReward, state_rows, verl_compute_score
from memgym.integrations.trl import MemoryToolEnvironment, episode_rows

ENV = {"retriever": "bm25"}


def _tools(environment: MemoryToolEnvironment) -> dict[str, object]:
    """Tool discovery as GRPOTrainer does it: public functions other than reset and get_reward."""
    return {
        name: getattr(environment, name)
        for name, _ in inspect.getmembers(type(environment), predicate=inspect.isfunction)
        if name not in ("reset", "get_reward") and not name.startswith("_")
    }


def _fact(observation: str) -> str:
    return observation.split("<new_fact")[1].split(">\n", 1)[1].split("\n</new_fact>")[0]


def test_trl_environment_factory_contract() -> None:
    rows = episode_rows(**ENV)
    assert rows and {"prompt", "episode_index", "env_kwargs"} <= set(rows[0])
    assert "add_memory" in rows[0]["prompt"][0]["content"]
    # One instance per rollout; TRL resets each with the whole row and appends the returned text
    # to the last user message.
    environments = [MemoryToolEnvironment(**ENV) for _ in range(2)]
    tools = _tools(environments[0])
    assert sorted(tools) == ["add_memory", "delete_memory", "keep_memory", "update_memory"]
    for name, tool in tools.items():
        doc = inspect.getdoc(tool)
        assert doc and ("Args:" in doc or name == "keep_memory")
        assert (
            inspect.get_annotations(getattr(MemoryToolEnvironment, name), eval_str=True)["return"]
            is str
        )
    first, second = (env.reset(**rows[0]) for env in environments)
    assert first == second and first.startswith("\n<memories>")
    prompt = rows[0]["prompt"][-1]["content"] + first
    assert "<new_fact" in prompt
    # One rollout stores every fact, the other keeps nothing; get_reward scores each.
    reply = first
    while "ended" not in reply:
        reply = _tools(environments[0])["add_memory"](_fact(reply))  # type: ignore[operator]
    while "ended" not in _tools(environments[1])["keep_memory"]():  # type: ignore[operator]
        pass
    assert environments[0].get_reward() > environments[1].get_reward() == 0.0


def test_trl_tool_errors_are_returned_as_text() -> None:
    env = MemoryToolEnvironment(**ENV)
    row = episode_rows(**ENV)[0]
    env.reset(**row)
    reply = env.update_memory(7, "x")
    assert reply.startswith("error: UPDATE needs a target slot, but no memory is shown")
    assert (
        MemoryToolEnvironment(**ENV).add_memory("x") == "error: the environment has not been reset"
    )


def test_grpo_group_of_four_completions_is_scored_from_one_restored_state() -> None:
    rows = state_rows(**ENV)
    assert rows and set(rows[0]) == {"prompt", "state", "reference"}
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
    assert scores[3] == pytest.approx(scores[1] - 0.1)  # unreadable: nothing applied, the penalty
    assert (
        reward(completions=group, state=[row["state"]] * 4) == scores
    )  # restores exactly, every time


def test_verl_signature() -> None:
    row = state_rows(**ENV)[0]
    score = verl_compute_score("memgym", "NONE", None, {"state": row["state"], "env_kwargs": ENV})
    assert 0.0 <= score <= 1.0
