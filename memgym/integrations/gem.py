"""GEM (`gem-llm`): MemoryManagerEnv as a `gem.Env`, built with `gem.make` or `gem.make_vec`.

GEM's contract is Gymnasium's with text: `reset(seed) -> (str, info)`, `step(str) -> (str,
reward, terminated, truncated, info)`. The observation is memgym's whole rendered prompt
(`observation="prompt"`), or the user turn with the instructions in `info["prefix"]`, which
GEM's observation wrappers read (`observation="user"`). `make_vec` passes `seed` to the
constructor and its autoreset calls `reset()` without one: the first unseeded reset uses it.
`spawn(same_state=True)` continues from exactly this state (GRPO groups).

    import memgym.integrations.gem  # registers "memgym:MemoryManager-text-v0"
    env = gem.make("memgym:MemoryManager-text-v0", retriever="bm25")
"""

from __future__ import annotations

from typing import Any

import gem
from gem.core import Env
from gem.envs.registration import ENV_REGISTRY

from memgym.envs.memory_manager import MemoryManagerEnv
from memgym.integrations.defaults import TEXT_ENV_KWARGS
from memgym.wrappers.variants import text_observation, text_view

ENV_ID = "memgym:MemoryManager-text-v0"


class MemoryGemEnv(Env):  # type: ignore[misc]
    """MemoryManagerEnv-text-v0 behind GEM's interface."""

    def __init__(
        self,
        seed: int | None = None,
        observation: str = "prompt",
        _env: MemoryManagerEnv | None = None,
        **env_kwargs: Any,
    ) -> None:
        super().__init__()
        if observation not in ("prompt", "user"):
            raise ValueError("observation must be 'prompt' or 'user'")
        self.env_kwargs = {**TEXT_ENV_KWARGS, **env_kwargs}
        self.observation_kind = observation
        self.base = _env if _env is not None else MemoryManagerEnv(**self.env_kwargs)
        self.env = text_view(self.base)
        self._seed = seed

    def reset(self, seed: int | None = None) -> tuple[str, dict[str, Any]]:
        # Not Env.reset(seed): it reseeds Python's and NumPy's global generators; memgym has
        # its own.
        if seed is None:
            seed, self._seed = self._seed, None
        observation, info = self.env.reset(seed=seed)
        return self._text(observation, info), info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        return self._text(observation, info), float(reward), bool(terminated), bool(truncated), info

    def sample_random_action(self) -> str:
        return "NONE"

    def spawn(self, same_state: bool = False, **kwargs: Any) -> MemoryGemEnv:
        """A new env; with `same_state`, at exactly this env's state (a fork)."""
        base = self.base.fork() if same_state else None
        return MemoryGemEnv(
            observation=self.observation_kind, _env=base, **{**self.env_kwargs, **kwargs}
        )

    def _text(self, observation: dict[str, Any], info: dict[str, Any]) -> str:
        info["messages"] = [dict(m) for m in observation["messages"]]
        if self.observation_kind == "prompt":
            return str(observation["prompt"])
        info["prefix"] = observation["messages"][0]["content"] + "\n\n"
        return str(observation["messages"][-1]["content"])

    def current_text(self) -> str:
        """The observation of the current step (after `spawn(same_state=True)`, say)."""
        return self._text(text_observation(self.env), {})

    def close(self) -> None:
        self.env.close()


if ENV_ID not in ENV_REGISTRY:  # gem.register raises on a duplicate id
    gem.register(ENV_ID, entry_point="memgym.integrations.gem:MemoryGemEnv")
