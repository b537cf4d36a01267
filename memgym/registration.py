"""Gymnasium registration of memgym's environment ids (idempotent)."""

from __future__ import annotations

import gymnasium

ENV_IDS: dict[str, str] = {
    "MemoryManagerEnv-v0": "memgym.envs.memory_manager:MemoryManagerEnv",
    "AnswerAgentEnv-v0": "memgym.envs.answer_agent:AnswerAgentEnv",
}


def register_envs() -> None:
    """Register every id once; `gymnasium.make("memgym:MemoryManagerEnv-v0")` works too."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
