"""One action path: the env, the text wrapper, the TRL tools and the reward function refuse the
same malformed action with the same reason, from `memgym.actions`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from memgym.actions import check_action, decode_action
from memgym.agents.base import ManagerDecision, RetrievedMemory
from memgym.config import MemoryConfig
from memgym.data import Fact
from memgym.envs import MemoryManagerEnv
from memgym.integrations.reward_function import MemoryReward
from memgym.integrations.trl import MemoryToolEnvironment
from memgym.memory import Op
from memgym.wrappers.chat_observation import ChatObservation
from memgym.wrappers.text_action import TextAction

ENV = {"retriever": "bm25", "split": "all", "episode": "conversation"}
LONG = " ".join(["word"] * 60)
# (completion string, equivalent dict action, TRL tool call, reason)
MALFORMED = [
    (
        "UPDATE 9: x",
        {"op": 1, "target": 9, "text": "x"},
        ("update_memory", (9, "x")),
        "target slot 9 is not shown",
    ),
    (
        "DELETE 7",
        {"op": 2, "target": 7, "text": ""},
        ("delete_memory", (7,)),
        "target slot 7 is not shown",
    ),
    (
        f"ADD: {LONG}",
        {"op": 0, "target": -1, "text": LONG},
        ("add_memory", (LONG,)),
        "ADD text has 60 words",
    ),
    (
        "UPDATE 0:",
        {"op": 1, "target": 0, "text": ""},
        ("update_memory", (0, "")),
        "UPDATE needs a non-empty text",
    ),
]


def _at_second_fact(env: MemoryManagerEnv) -> None:
    """Reset to sample-1 and store facts until a memory is shown with the pending fact."""
    observation, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    while not env.visible_memories:
        observation, *_ = env.step({"op": 0, "target": -1, "text": observation["fact"]})


@pytest.mark.parametrize(("completion", "action", "tool", "reason"), MALFORMED)
def test_every_entry_point_refuses_with_the_same_reason(
    completion: str, action: dict[str, Any], tool: tuple[str, tuple[Any, ...]], reason: str
) -> None:
    reasons = []
    for step_input in (completion, action):
        env = MemoryManagerEnv(**ENV)
        _at_second_fact(env)
        reasons.append(env.step(step_input)[4]["invalid_action"])
    text_env = TextAction(ChatObservation(MemoryManagerEnv(**ENV)))
    _at_second_fact(text_env.unwrapped)  # type: ignore[arg-type]
    reasons.append(text_env.step(completion)[4]["invalid_action"])
    tools = MemoryToolEnvironment(**ENV)
    tools.reset(env_kwargs=ENV, episode_index=0)
    assert tools._env is not None
    _at_second_fact(tools._env)
    name, args = tool
    reply = getattr(tools, name)(*args)
    reasons.append(reply.split("\n")[0].removeprefix("error: "))
    probe = MemoryManagerEnv(**{**ENV, "episode": "window"})
    probe.reset(seed=0, options={"episode_index": 0})
    while not probe.visible_memories:  # a tuple whose first fact is shown a memory
        probe.reset(options={"episode_index": probe.get_state()["episode_index"] + 1})
    state = json.dumps(probe.get_state())
    _, from_reward_function = MemoryReward(**{**ENV, "episode": "window"}).evaluate(
        completion, state
    )
    assert from_reward_function == probe.step(completion)[4]["invalid_action"]
    assert len(set(reasons)) == 1, reasons
    assert all(r is not None and r.startswith(reason) for r in [*reasons, from_reward_function])


def _fact(text: str = "Andrew adopted Scout.") -> Fact:
    return Fact(
        id="f",
        text=text,
        speaker="Andrew",
        session_id="s",
        time=None,
        time_raw=None,
        source_turn_ids=(),
    )


def test_memories_may_be_as_long_as_the_fact_they_store_but_merges_stay_short() -> None:
    config = MemoryConfig(max_memory_words=10)
    long_fact = _fact(" ".join(["Andrew"] * 30))
    assert check_action({"op": 0, "text": long_fact.text}, [], long_fact, config).error is None
    shown = [RetrievedMemory(0, "m1", " ".join(["x"] * 8), "Andrew", None, 1.0)]
    glued = " ".join(["x"] * 8) + "; Andrew adopted Scout."
    decision = check_action({"op": 1, "target": 0, "text": glued}, shown, _fact(), config)
    assert decision.error is not None and "11 words, over the limit of 10" in decision.error


def test_decode_accepts_every_form_and_normalises() -> None:
    assert decode_action({"op": "update", "target": 2, "text": b"t"}) == ManagerDecision(
        Op.UPDATE, 2, "t"
    )
    assert decode_action("NONE").op == Op.NOOP
    decision = ManagerDecision(Op.ADD, 4, "  stored  ")
    checked = check_action(decision, [], _fact(), MemoryConfig())
    assert (checked.target, checked.text, checked.error) == (None, "stored", None)
