"""Registered wrapper stacks: the same envs seen as text (LLM trainers) or features (SB3)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from memgym.agents.prompts import PromptStyle
from memgym.envs.answer_agent import AnswerAgentEnv
from memgym.envs.memory_manager import MemoryManagerEnv
from memgym.wrappers.chat_observation import ChatObservation
from memgym.wrappers.features import DiscreteOperation, FeatureObservation
from memgym.wrappers.text_action import TextAction


def memory_manager_text(prompt_style: PromptStyle = "json", **kwargs: Any) -> gym.Env[Any, Any]:
    """MemoryManagerEnv-text-v0: prompt/messages in, completion out; `prompt_style` "json"
    (Mem0-style operations) or "compact" (one line; ADD/UPDATE store the fact as written)."""
    return text_view(MemoryManagerEnv(**kwargs), prompt_style)


def text_view(env: MemoryManagerEnv, prompt_style: PromptStyle = "json") -> gym.Env[Any, Any]:
    """An existing MemoryManagerEnv (a fork, say) seen as MemoryManagerEnv-text-v0."""
    return TextAction(ChatObservation(env, prompt_style), style=prompt_style)


def answer_agent_text(**kwargs: Any) -> gym.Env[Any, Any]:
    """AnswerAgentEnv-text-v0: prompt/messages in, completion (with **Answer:**) out."""
    return ChatObservation(AnswerAgentEnv(**kwargs))


def memory_manager_features(**kwargs: Any) -> gym.Env[Any, Any]:
    """MemoryManagerEnv-features-v0: float vector in, MultiDiscrete (op, slot) out. With a
    `memory_capacity`, the capacity features (what the `ppo` manager reads) and UPDATE as
    eviction; otherwise the similarity features and UPDATE as a merge."""
    env = MemoryManagerEnv(**kwargs)
    if env.config.memory_capacity is None:
        return DiscreteOperation(FeatureObservation(env))
    return DiscreteOperation(FeatureObservation(env, features="capacity"), update="replace")


def text_observation(view: gym.Env[Any, Any]) -> dict[str, Any]:
    """The current observation of a `text_view` (after a fork, where no reset returned it)."""
    chat = view.env  # type: ignore[attr-defined]  # TextAction wraps ChatObservation
    base = view.unwrapped
    assert isinstance(chat, ChatObservation) and isinstance(base, MemoryManagerEnv)
    return chat.observation(base.observation())
