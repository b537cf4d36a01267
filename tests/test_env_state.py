"""The envs' JSON state: set_state validates the whole state first; a corrupted one raises
ValueError naming the field and leaves the env exactly as it was."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memgym.envs import AnswerAgentEnv, MemoryManagerEnv


def _env() -> MemoryManagerEnv:
    env = MemoryManagerEnv(retriever="bm25", split="all")
    observation, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    for _ in range(3):
        observation, *_ = env.step({"op": 0, "target": -1, "text": observation["fact"]})
    return env


ENV = _env()
STATE = ENV.get_state()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 1}, "version"),
        ({"episode_kind": "window"}, "episode_kind"),
        ({"episode_index": -1}, "episode_index"),
        ({"episode_index": 99}, "episode_index"),
        ({"conversation_id": "sample-2"}, "conversation_id"),
        ({"cursor": -1}, "cursor"),
        ({"cursor": 10_000}, "cursor"),
        ({"cursor": "3"}, "cursor"),
        ({"op_counts": {"ADD": 1, "MERGE": 2}}, "op_counts"),
        ({"op_counts": {"ADD": -1, "UPDATE": 0, "DELETE": 0, "NOOP": 0}}, "op_counts.ADD"),
        ({"potential": float("nan")}, "potential"),
        ({"rng": {"bit_generator": "PCG64"}}, "rng"),
        ({"last": None}, "last"),
        ({"invalid_count": True}, "invalid_count"),
    ],
)
def test_bad_fields_are_named_and_the_env_is_untouched(change: dict[str, Any], field: str) -> None:
    env = ENV.fork()
    before = json.dumps(env.get_state(), sort_keys=True)
    with pytest.raises(ValueError, match=f"field '{field}"):
        env.set_state({**copy.deepcopy(STATE), **change})
    assert json.dumps(env.get_state(), sort_keys=True) == before


def test_an_edited_bank_is_refused_by_its_checksum() -> None:
    state = copy.deepcopy(STATE)
    state["bank"]["bank"]["entries"][0]["text"] = "edited by hand"
    env = ENV.fork()
    with pytest.raises(ValueError, match=r"field 'bank'.*checksum"):
        env.set_state(state)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [prefix] + [p for k, v in obj.items() for p in _paths(v, (*prefix, k))]
    if isinstance(obj, list):
        return [prefix] + [p for i, v in enumerate(obj) for p in _paths(v, (*prefix, i))]
    return [prefix]


def _answer_env() -> AnswerAgentEnv:
    env = AnswerAgentEnv(retriever="bm25", split="all")
    env.reset(seed=0)
    return env


ANSWER_ENV = _answer_env()
# Each env, its state, and an action that continues from a state it accepted.
ENVS: dict[str, tuple[Any, dict[str, Any], str]] = {
    "memory_manager": (ENV, STATE, "NONE"),
    "answer_agent": (ANSWER_ENV, ANSWER_ENV.get_state(), "**Answer:** Buddy"),
}
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("name", sorted(ENVS))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), junk=JUNK)
def test_mutated_states_either_load_or_leave_the_env_unchanged(
    name: str, data: st.DataObject, junk: Any
) -> None:
    original, pristine, action = ENVS[name]
    path = data.draw(st.sampled_from([p for p in _paths(pristine) if p]), label="path")
    state = copy.deepcopy(pristine)
    target = state
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = junk
    env = original.fork()
    before = json.dumps(env.get_state(), sort_keys=True)
    try:
        env.set_state(state)
    except ValueError:
        assert json.dumps(env.get_state(), sort_keys=True) == before
    else:  # a harmless change (a value equal in meaning): the env continues from it
        if state.get("done") is not True:  # a finished episode is valid and takes no step
            env.step(action)
