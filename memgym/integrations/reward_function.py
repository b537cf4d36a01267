"""For "dataset + reward function" trainers (verl, OpenRLHF, TRL without environments).

Each row is one decision: the chat prompt for a fact and the serialised env state just before
it, and the reference manager's reply there (`reference`, an SFT target). The reward function
restores that state, applies the completion, lets the reference manager finish the episode, and
returns the episode's score. All completions of a GRPO group share their row's state, so they
are scored from the identical starting point. `prompt_style` picks the text env's prompt and
reply format ("json" or "compact", see memgym.agents.prompts); training and evaluation must use
the same one.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from typing import Any

from memgym.agents.base import ManagerDecision, MemoryManager, decide_in_bank
from memgym.agents.parsing import read_reply, reply_text
from memgym.agents.prompts import PromptStyle
from memgym.agents.registry import make_manager
from memgym.envs.memory_manager import MemoryManagerEnv
from memgym.wrappers.chat_observation import ChatObservation

DEFAULT_ENV_KWARGS: dict[str, Any] = {"episode": "window", "reward_schedule": "episode"}
OUTCOMES_KEPT = 100_000


def state_rows(
    rollout_manager: str = "heuristic",
    prompt_style: PromptStyle = "json",
    episodes: Sequence[int] | None = None,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """Walk `episodes` (default: every one) with `rollout_manager`; one row per fact: `prompt`
    (chat messages), `state` (JSON of the env state before the fact) and `reference` (the
    manager's decision as a reply in `prompt_style`)."""
    kwargs = {**DEFAULT_ENV_KWARGS, **env_kwargs}
    env = MemoryManagerEnv(**kwargs)
    chat = ChatObservation(env, prompt_style)
    manager = make_manager(rollout_manager, max_memory_words=env.config.max_memory_words)
    rows = []
    for index in range(env.episodes) if episodes is None else episodes:
        observation, _ = env.reset(seed=index, options={"episode_index": index})
        done = False
        while not done:
            state: dict[str, Any] = env.get_state()
            decision = manager_decision(env, manager)
            rows.append(
                {
                    "prompt": chat.messages(observation),
                    "state": json.dumps(state),
                    "reference": reply_text(decision, prompt_style),
                }
            )
            observation, _, done, _, _ = env.step(decision)
    return rows


def manager_decision(env: MemoryManagerEnv, manager: MemoryManager) -> ManagerDecision:
    """`manager`'s decision on the env's current fact, given the bank's state as the engine
    behind the leaderboard gives it (`ConversationMemory.decide`)."""
    fact, bank = env.current_fact, env.bank_state()
    assert fact is not None and bank is not None
    return decide_in_bank(manager, fact, env.visible_memories, bank)


def _completion_text(completion: Any) -> str:
    """A completion as TRL passes it: a string, or a list of chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content", ""))
    return ""


class MemoryReward:
    """`reward(completions, state=[...]) -> scores`: the downstream score of each completion.

    The completion is the env's action (`memgym.actions`), read in `prompt_style`: one that
    cannot be read or applied changes nothing and adds the env's `invalid_action_penalty`, as
    in the env itself. `outcomes` holds, per scored completion (the last OUTCOMES_KEPT), its
    operation, whether it was valid, and its score: training curves read and pop them.
    """

    __name__ = "memgym_memory_reward"

    def __init__(
        self,
        rollout_manager: str = "heuristic",
        prompt_style: PromptStyle = "json",
        **env_kwargs: Any,
    ) -> None:
        self.env = MemoryManagerEnv(**{**DEFAULT_ENV_KWARGS, **env_kwargs})
        self.manager = make_manager(
            rollout_manager, max_memory_words=self.env.config.max_memory_words
        )
        self.prompt_style = prompt_style
        # bounded: a long-lived reward function (verl's, cached per configuration) must not grow
        self.outcomes: deque[tuple[str, bool, float]] = deque(maxlen=OUTCOMES_KEPT)

    def evaluate(self, completion: str, state: str | dict[str, Any]) -> tuple[float, str | None]:
        """Restore `state`, apply `completion`, finish the episode with the reference manager;
        the score, and why the completion was an invalid action (None if it was valid)."""
        env = self.env
        env.set_state(json.loads(state) if isinstance(state, str) else state)
        decision = read_reply(completion, env.current_fact, self.prompt_style)
        _, _, done, _, info = env.step(decision)
        penalty = float(info["reward_components"]["penalty"])
        invalid = info["invalid_action"]
        while not done:
            _, _, done, _, info = env.step(manager_decision(env, self.manager))
        score = float(info["episode_score"]) + penalty
        self.outcomes.append((decision.op.name, invalid is None, score))
        return score, invalid

    def score(self, completion: str, state: str | dict[str, Any]) -> float:
        """The downstream score of `completion` from `state` (see `evaluate`)."""
        return self.evaluate(completion, state)[0]

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
