"""ChatObservation: observations as chat messages and a prompt string, for LLM policies."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from gymnasium import spaces

from memgym.agents.prompts import (
    PromptStyle,
    answer_messages,
    check_prompt_style,
    manager_messages,
)
from memgym.envs.spaces import UnicodeText
from memgym.wrappers.observation_views import bank_of, fact_of, memories_of, question_of

MAX_PROMPT_CHARS = 1_000_000


def render_prompt(messages: list[dict[str, str]]) -> str:
    """A plain-text prompt for completion models: each message under its role."""
    return "\n\n".join(f"### {m['role']}\n{m['content']}" for m in messages) + "\n\n### assistant\n"


class ChatObservation(gym.ObservationWrapper[dict[str, Any], Any, dict[str, Any]]):
    """Replace the observation by `{"messages": (system, user), "prompt": str}` with the
    Memory-R1 instructions; memory text is delimited as data (see memgym.agents.prompts).

    Works on MemoryManagerEnv (operation prompt, in `style` "json" or "compact"; see
    memgym.agents.prompts) and AnswerAgentEnv (answer prompt). The
    LoCoMo temporal hint needs the question category, which the answer observation does not
    carry: it is taken from `info` at reset.
    """

    def __init__(self, env: gym.Env[Any, Any], style: PromptStyle = "json") -> None:
        super().__init__(env)
        self.style = check_prompt_style(style)
        base = env.observation_space
        if not isinstance(base, spaces.Dict) or not (
            {"fact"} <= set(base) or {"question"} <= set(base)
        ):
            raise TypeError("ChatObservation wraps MemoryManagerEnv or AnswerAgentEnv")
        self.kind = "manager" if "fact" in base.spaces else "answer"
        message = spaces.Dict({"role": UnicodeText(16), "content": UnicodeText(MAX_PROMPT_CHARS)})
        self.observation_space = spaces.Dict(
            {
                "messages": spaces.Sequence(message, stack=False),
                "prompt": UnicodeText(MAX_PROMPT_CHARS),
            }
        )
        self._category: int | str = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        self._category = info.get("category", 0)
        return self.observation(observation), info

    def messages(self, observation: dict[str, Any]) -> list[dict[str, str]]:
        """The chat messages for a raw observation of the wrapped env."""
        if self.kind == "manager":
            return manager_messages(
                fact_of(observation), memories_of(observation), bank_of(observation), self.style
            )
        return answer_messages(question_of(observation, self._category), memories_of(observation))

    def observation(self, observation: dict[str, Any]) -> dict[str, Any]:
        messages = self.messages(observation)
        return {"messages": tuple(messages), "prompt": render_prompt(messages)}
