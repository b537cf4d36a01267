"""verifiers: memgym's text env behind verifiers' `GymEnv` (a gym-style env runner).

    # in a verifiers environment module
    from memgym.integrations.verifiers import load_environment

`GymEnv` builds `env_cls(**env_kwargs)`, calls `reset(seed=...)`, shows `obs_to_text(obs)` to the
model, passes each reply (through `action_parser`) to `step`, and sums the step rewards. Here
`env_cls` is MemoryManagerEnv-text-v0's factory, the text is the user turn of the Memory-R1
prompt (its system turn goes to `system_prompt`), and the reply is the completion itself.
Importing this module does not import verifiers.
"""

from __future__ import annotations

from typing import Any

from memgym.agents.prompts import MANAGER_SYSTEM
from memgym.wrappers.variants import memory_manager_text

DEFAULT_ENV_KWARGS: dict[str, Any] = {"episode": "window", "reward_schedule": "step"}


def observation_text(observation: dict[str, Any]) -> str:
    """The user turn of a MemoryManagerEnv-text-v0 observation."""
    return str(observation["messages"][-1]["content"])


def gym_env_arguments(**env_kwargs: Any) -> dict[str, Any]:
    """The keyword arguments for verifiers' `GymEnv` that run MemoryManagerEnv."""
    return {
        "env_cls": memory_manager_text,
        "env_kwargs": {**DEFAULT_ENV_KWARGS, **env_kwargs},
        "obs_to_text": observation_text,
        "system_prompt": MANAGER_SYSTEM,
    }


def load_environment(
    num_train_episodes: int = 200, num_eval_episodes: int = 20, **env_kwargs: Any
) -> Any:
    """A verifiers environment over MemoryManagerEnv (needs `pip install verifiers`)."""
    gym_env = _gym_env_class()
    return gym_env(
        **gym_env_arguments(**env_kwargs),
        num_train_episodes=num_train_episodes,
        num_eval_episodes=num_eval_episodes,
    )


def _gym_env_class() -> Any:
    try:
        import verifiers as vf
    except ImportError as exc:
        raise ImportError("load_environment needs verifiers: pip install verifiers") from exc
    for module in (
        "verifiers.envs.experimental.gym_env",
        "verifiers.legacy.envs.experimental.gym_env",
    ):
        try:
            return __import__(module, fromlist=["GymEnv"]).GymEnv
        except (ImportError, AttributeError):
            continue
    found = getattr(vf, "GymEnv", None)
    if found is None:
        raise ImportError(
            f"this verifiers version ({getattr(vf, '__version__', '?')}) has no GymEnv"
        )
    return found
