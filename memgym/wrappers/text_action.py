"""TextAction: the action is an LLM completion, parsed into MemoryManagerEnv's structured action."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from memgym.agents.parsing import parse_manager_output
from memgym.envs.memory_manager import action_from_decision
from memgym.envs.spaces import UnicodeText
from memgym.memory.operations import Op
from memgym.wrappers.features import memory_manager_env


class TextAction(gym.Wrapper[Any, str, Any, Any]):
    """Accept a completion (Mem0-style JSON or `UPDATE 2: text`) as the action.

    The parse result goes to `info["parse"]`. A completion that cannot be parsed costs
    `format_penalty` (on top of the env's reward) and is applied as a NOOP, so a badly formatted
    completion is never rewarded like a well-formed one.
    """

    def __init__(
        self, env: gym.Env[Any, Any], format_penalty: float = -0.1, max_chars: int = 100_000
    ) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self.format_penalty = float(format_penalty)
        self.action_space = UnicodeText(max_chars)
        self._n_slots = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        self._n_slots = len(self.manager_env.visible_memories)
        return observation, info

    def step(self, action: str) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        decision = parse_manager_output(action if isinstance(action, str) else "", self._n_slots)
        if not isinstance(action, str):
            decision = type(decision)(
                Op.NOOP, error=f"completion must be a str, got {type(action).__name__}"
            )
        structured = action_from_decision(decision)
        observation, reward, terminated, truncated, info = self.env.step(structured)  # type: ignore[arg-type]
        info["parse"] = {
            "op": decision.op.name,
            "target": decision.target,
            "text": decision.text,
            "error": decision.error,
        }
        penalty = self.format_penalty if decision.error is not None else 0.0
        info.setdefault("reward_components", {})["format"] = penalty
        self._n_slots = len(self.manager_env.visible_memories)
        return observation, float(reward) + penalty, terminated, truncated, info
