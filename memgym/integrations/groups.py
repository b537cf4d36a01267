"""GRPO groups: G rollouts that start from exactly the same state.

GRPO compares the completions of a group, so every member must see the same first observation
and be scored from the same bank. `group_starts` resets one env (seed, options) and forks it G
times (cheap: banks and indexes are copied in memory); `text_group_starts` does the same for
the text view that LLM trainers use. Every adapter builds its groups with these.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from memgym.envs.memory_manager import MemoryManagerEnv
from memgym.wrappers.variants import text_observation, text_view


def group_starts(
    env: MemoryManagerEnv, size: int, seed: int | None = None, options: dict[str, Any] | None = None
) -> list[tuple[MemoryManagerEnv, dict[str, Any]]]:
    """`size` independent envs at one start, each with its first observation."""
    if size < 1:
        raise ValueError("a group needs at least one member")
    observation, _ = env.reset(seed=seed, options=options)
    return [(env.fork(), observation) for _ in range(size)]


def text_group_starts(
    env: MemoryManagerEnv, size: int, seed: int | None = None, options: dict[str, Any] | None = None
) -> list[tuple[gym.Env[Any, Any], dict[str, Any]]]:
    """`group_starts` seen through MemoryManagerEnv-text-v0 (chat messages in, completion out)."""
    views = [text_view(member) for member, _ in group_starts(env, size, seed, options)]
    return [(view, text_observation(view)) for view in views]
