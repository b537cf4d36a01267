"""SkyRL-Gym: MemoryManagerEnv as a `skyrl_gym` text env, for SkyRL's generator.

SkyRL builds one env per trajectory with `skyrl_gym.make(env_class, env_config=...,
extras=row)`, calls `init(prompt)` for the opening messages, then `step(completion)` until
`done`, appending the reply and the returned `observations`. Here `init` resets the text env
(the row's `seed`, `options`) and returns its (system, user) messages; each step's observation
is the next user turn; `reward` is memgym's per-step reward. Rows come from `dataset_rows`.

    from memgym.integrations.skyrl import ENV_ID, dataset_rows   # registers the env
"""

from __future__ import annotations

from typing import Any

import skyrl_gym
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput, ConversationType

from memgym.integrations.defaults import TEXT_ENV_KWARGS, plain_config
from memgym.wrappers.variants import memory_manager_text

ENV_ID = "memgym-memory-manager"


class MemorySkyRLEnv(BaseTextEnv):  # type: ignore[misc]
    """One trajectory of MemoryManagerEnv-text-v0."""

    def __init__(self, env_config: Any = None, extras: dict[str, Any] | None = None) -> None:
        super().__init__()
        extras = extras or {}
        kwargs = {**TEXT_ENV_KWARGS, **plain_config(env_config), **extras.get("env_kwargs", {})}
        self.env = memory_manager_text(**kwargs)
        self.seed: int | None = extras.get("seed")
        self.options: dict[str, Any] | None = extras.get("options")
        self.max_turns = int(extras.get("max_turns", 1_000_000))
        self.turns = 0
        self.rewards: list[float] = []
        self.info: dict[str, Any] = {}

    def init(
        self, prompt: ConversationType | None = None
    ) -> tuple[ConversationType, dict[str, Any]]:
        observation, self.info = self.env.reset(seed=self.seed, options=self.options)
        self.turns, self.rewards = 0, []
        return [dict(m) for m in observation["messages"]], {
            "conversation_id": self.info.get("conversation_id")
        }

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        observation, reward, terminated, truncated, self.info = self.env.step(action)
        self.rewards.append(float(reward))
        done = bool(terminated or truncated) or self.turns >= self.max_turns
        return BaseTextEnvStepOutput(
            observations=[] if done else [dict(observation["messages"][-1])],
            reward=float(reward),
            done=done,
            metadata={"op": self.info.get("op"), "invalid_action": self.info.get("invalid_action")},
        )

    def get_metrics(self) -> dict[str, Any]:
        return {
            "steps": self.turns,
            "total_reward": sum(self.rewards),
            "episode_score": float(self.info.get("episode_score") or 0.0),
        }

    def close(self) -> None:
        self.env.close()


def dataset_rows(episodes: int, data_source: str = "memgym") -> list[dict[str, Any]]:
    """Rows in SkyRL's dataset shape; `init` builds the prompt from the row's seed, so the
    row's prompt only names the episode."""
    return [
        {
            "data_source": data_source,
            "prompt": [{"role": "user", "content": f"memgym episode {i}"}],
            "env_class": ENV_ID,
            "seed": i,
            "options": {"episode_index": i},
        }
        for i in range(episodes)
    ]


if ENV_ID not in skyrl_gym.registry:  # skyrl_gym.register raises on a duplicate id
    skyrl_gym.register(id=ENV_ID, entry_point="memgym.integrations.skyrl:MemorySkyRLEnv")
