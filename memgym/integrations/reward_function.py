"""For "dataset + reward function" trainers (verl, OpenRLHF, TRL without environments).

Each row is one decision: the chat prompt for a fact and the serialised env state just before
it. The reward function restores that state, applies the completion, lets a reference manager
finish the episode, and returns the episode's score. All completions of a GRPO group share
their row's state, so they are scored from the identical starting point.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from memgym.agents.base import MemoryManager
from memgym.agents.parsing import parse_manager_output
from memgym.agents.registry import make_manager
from memgym.envs.memory_manager import MemoryManagerEnv, action_from_decision
from memgym.wrappers.chat_observation import ChatObservation

DEFAULT_ENV_KWARGS: dict[str, Any] = {"episode": "window", "reward_schedule": "episode"}


def state_rows(rollout_manager: str = "heuristic", **env_kwargs: Any) -> list[dict[str, Any]]:
    """Walk every episode with `rollout_manager`; one row per fact: `prompt` (chat messages)
    and `state` (JSON of the env state before the fact)."""
    kwargs = {**DEFAULT_ENV_KWARGS, **env_kwargs}
    env = MemoryManagerEnv(**kwargs)
    chat = ChatObservation(env)
    manager = make_manager(rollout_manager)
    rows = []
    for index in range(env.episodes):
        observation, _ = env.reset(seed=index, options={"episode_index": index})
        done = False
        while not done:
            rows.append(
                {"prompt": chat.messages(observation), "state": json.dumps(env.get_state())}
            )
            observation, _, done, _, _ = env.step(_decide(env, manager))
    return rows


def _decide(env: MemoryManagerEnv, manager: MemoryManager) -> dict[str, Any]:
    fact = env.current_fact
    assert fact is not None
    return action_from_decision(manager.decide(fact, env.visible_memories))


def _completion_text(completion: Any) -> str:
    """A completion as TRL passes it: a string, or a list of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


class MemoryReward:
    """`reward(completions, state=[...]) -> scores`: the downstream score of each completion.

    An unparseable completion is applied as NOOP and scored with `format_penalty` added.
    """

    __name__ = "memgym_memory_reward"

    def __init__(
        self, rollout_manager: str = "heuristic", format_penalty: float = -0.1, **env_kwargs: Any
    ) -> None:
        self.env = MemoryManagerEnv(**{**DEFAULT_ENV_KWARGS, **env_kwargs})
        self.manager = make_manager(rollout_manager)
        self.format_penalty = format_penalty

    def score(self, completion: str, state: str | dict[str, Any]) -> float:
        """Restore `state`, apply `completion`, finish the episode with the reference manager."""
        env = self.env
        env.set_state(json.loads(state) if isinstance(state, str) else state)
        decision = parse_manager_output(completion, len(env.visible_memories))
        penalty = 0.0 if decision.error is None else self.format_penalty
        _, _, done, _, info = env.step(action_from_decision(decision))
        while not done:
            _, _, done, _, info = env.step(_decide(env, self.manager))
        return float(info["episode_score"]) + penalty

    def __call__(
        self, completions: Sequence[Any], state: Sequence[str], **kwargs: Any
    ) -> list[float]:
        return [self.score(_completion_text(c), s) for c, s in zip(completions, state, strict=True)]


def verl_compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict[str, Any] | None = None
) -> float:
    """verl's custom reward signature; `extra_info["state"]` holds the row's state and
    `extra_info.get("env_kwargs")` the env configuration."""
    info = extra_info or {}
    reward = _cached_reward(json.dumps(info.get("env_kwargs", {}), sort_keys=True))
    return reward.score(solution_str, info["state"])


_REWARDS: dict[str, MemoryReward] = {}


def _cached_reward(env_kwargs_json: str) -> MemoryReward:
    # verl calls the function once per sample: build the env once per configuration.
    if env_kwargs_json not in _REWARDS:
        _REWARDS[env_kwargs_json] = MemoryReward(**json.loads(env_kwargs_json))
    return _REWARDS[env_kwargs_json]
