"""Gymnasium registration of memgym's environment ids (idempotent)."""

from __future__ import annotations

import gymnasium

ENV_IDS: dict[str, str] = {
    "MemoryManagerEnv-v0": "memgym.envs.memory_manager:MemoryManagerEnv",
    "AnswerAgentEnv-v0": "memgym.envs.answer_agent:AnswerAgentEnv",
    "MemoryManagerEnv-text-v0": "memgym.wrappers.variants:memory_manager_text",
    "AnswerAgentEnv-text-v0": "memgym.wrappers.variants:answer_agent_text",
    "MemoryManagerEnv-features-v0": "memgym.wrappers.variants:memory_manager_features",
}


def register_envs() -> None:
    """Register every id once; `gymnasium.make("memgym:MemoryManagerEnv-v0")` works too."""
    for env_id, entry_point in ENV_IDS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point)
