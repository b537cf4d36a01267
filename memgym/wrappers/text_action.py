"""TextAction: the action is an LLM completion, parsed into MemoryManagerEnv's structured action."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from memgym.agents.base import ManagerDecision
from memgym.agents.parsing import read_reply
from memgym.agents.prompts import PromptStyle, check_prompt_style
from memgym.envs.spaces import UnicodeText
from memgym.memory.operations import Op
from memgym.wrappers.features import memory_manager_env


class TextAction(gym.Wrapper[Any, str, Any, Any]):
    """Accept a completion (Mem0-style JSON or `UPDATE 2: text`) as the action.

    With `style="compact"` (the compact prompt's replies), an ADD or UPDATE without text
    stores the new fact as written, whatever words follow the id
    (`memgym.agents.parsing.read_reply`).

    The parse result goes to `info["parse"]`. A completion that cannot be read is an invalid
    action of the env (nothing applied, the env's `invalid_action_penalty`, the reason in
    `info["invalid_action"]`), exactly as the same string given to the env directly.
    """

    def __init__(
        self, env: gym.Env[Any, Any], max_chars: int = 100_000, style: PromptStyle = "json"
    ) -> None:
        super().__init__(env)
        self.style = check_prompt_style(style)
        self.manager_env = memory_manager_env(env)
        self.action_space = UnicodeText(max_chars)

    def step(self, action: str) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if isinstance(action, str):
            decision = read_reply(action, self.manager_env.current_fact, self.style)
        else:
            kind = type(action).__name__
            decision = ManagerDecision(Op.NOOP, error=f"completion must be a str, got {kind}")
        observation, reward, terminated, truncated, info = self.env.step(decision)  # type: ignore[arg-type]
        info["parse"] = {
            "op": decision.op.name,
            "target": decision.target,
            "text": decision.text,
            "error": decision.error,
        }
        return observation, reward, terminated, truncated, info
