"""OpenEnv (`openenv-core`): MemoryManagerEnv served as an OpenEnv environment, and its client.

TRL, Unsloth, ART and other OpenEnv consumers talk to environments over HTTP/WebSocket. The
server side is an OpenEnv `Environment` (reset/step/state over pydantic models) behind
OpenEnv's own `create_app`; each WebSocket session gets its own env (episodes are stateful
only over the WebSocket). The action is the model's completion; the observation carries the
chat messages, the rendered prompt, memgym's `info`, the reward and `done`.

    app = create_memory_app(episode="window")          # uvicorn.run(app, host="127.0.0.1")
    with MemoryEnvClient(base_url="http://127.0.0.1:8011").sync() as env:
        result = env.reset(seed=0)
        result = env.step(MemoryAction(completion="ADD: Andrew has a dog"))
"""

from __future__ import annotations

import functools
import json
from typing import Any

from openenv.core import EnvClient
from openenv.core.client_types import StepResult
from openenv.core.env_server.http_server import create_app
from openenv.core.env_server.interfaces import Environment
from openenv.core.env_server.types import Action, EnvironmentMetadata, Observation, State
from pydantic import Field

from memgym import __version__
from memgym.integrations.defaults import TEXT_ENV_KWARGS
from memgym.wrappers.variants import memory_manager_text


def jsonable(value: Any) -> Any:
    """memgym's info holds numpy scalars and tuples; OpenEnv serialises with pydantic."""
    return json.loads(json.dumps(value, default=lambda o: getattr(o, "tolist", lambda: str(o))()))


class MemoryAction(Action):  # type: ignore[misc]
    completion: str = Field(..., description="the completion: Mem0 JSON or 'UPDATE 2: text'")


class MemoryObservation(Observation):  # type: ignore[misc]
    # OpenEnv's wire format drops `metadata`: memgym's info travels in its own field.
    messages: list[dict[str, str]] = Field(default_factory=list)
    prompt: str = ""
    info: dict[str, Any] = Field(default_factory=dict)


class MemoryState(State):  # type: ignore[misc]
    conversation_id: str | None = None
    total_reward: float = 0.0


class MemoryEnvironment(Environment[MemoryAction, MemoryObservation, MemoryState]):  # type: ignore[misc]
    """One MemoryManagerEnv-text-v0 per instance (OpenEnv makes one per session)."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, **env_kwargs: Any) -> None:
        super().__init__()
        self.env_kwargs = {**TEXT_ENV_KWARGS, **env_kwargs}
        self._env: Any = None  # built on reset: OpenEnv builds throwaway instances for /state
        self._state = MemoryState()

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, **kwargs: Any
    ) -> MemoryObservation:
        if self._env is None:
            self._env = memory_manager_text(**self.env_kwargs)
        observation, info = self._env.reset(seed=seed, options=kwargs.get("options"))
        self._state = MemoryState(
            episode_id=episode_id or f"{info.get('conversation_id')}:{seed}",
            step_count=0,
            conversation_id=info.get("conversation_id"),
        )
        return _observation(observation, info, None, False)

    def step(
        self, action: MemoryAction, timeout_s: float | None = None, **kwargs: Any
    ) -> MemoryObservation:
        if self._env is None:
            raise RuntimeError("call reset() before step()")
        observation, reward, terminated, truncated, info = self._env.step(action.completion)
        self._state.step_count += 1
        self._state.total_reward += float(reward)
        return _observation(observation, info, float(reward), bool(terminated or truncated))

    @property
    def state(self) -> MemoryState:
        return self._state

    def get_metadata(self) -> EnvironmentMetadata:
        return EnvironmentMetadata(
            name="memgym-MemoryManagerEnv-text-v0",
            description="Long-term conversational memory management (memgym)",
            version=__version__,
        )

    def close(self) -> None:
        if self._env is not None:
            self._env.close()
            self._env = None


def _observation(
    observation: dict[str, Any], info: dict[str, Any], reward: float | None, done: bool
) -> MemoryObservation:
    return MemoryObservation(
        messages=[dict(m) for m in observation["messages"]],
        prompt=observation["prompt"],
        info=jsonable(info),
        reward=reward,
        done=done,
    )


def create_memory_app(max_concurrent_envs: int = 4, **env_kwargs: Any) -> Any:
    """OpenEnv's FastAPI app over MemoryEnvironment (serve with uvicorn on 127.0.0.1)."""
    return create_app(
        functools.partial(MemoryEnvironment, **env_kwargs),
        MemoryAction,
        MemoryObservation,
        env_name="memgym",
        max_concurrent_envs=max_concurrent_envs,
    )


class MemoryEnvClient(EnvClient[MemoryAction, MemoryObservation, MemoryState]):  # type: ignore[misc]
    """OpenEnv's WebSocket client for the memgym server (`.sync()` for blocking use)."""

    def _step_payload(self, action: MemoryAction) -> dict[str, Any]:
        return dict(action.model_dump(exclude={"metadata"}))

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[MemoryObservation]:
        done = payload.get("done", False)
        observation = MemoryObservation(
            **payload.get("observation", {}), reward=payload.get("reward"), done=done
        )
        return StepResult(observation=observation, reward=payload.get("reward"), done=done)

    def _parse_state(self, payload: dict[str, Any]) -> MemoryState:
        return MemoryState(**payload)
