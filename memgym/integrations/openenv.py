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
from starlette.requests import Request
from starlette.responses import JSONResponse

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
        options = kwargs.get("options")
        if options is not None and not isinstance(options, dict):
            raise BadRequest(f"options must be an object, got {type(options).__name__}")
        for key in ("episode_index", "window_index"):
            value = (options or {}).get(key)
            if key in (options or {}) and (isinstance(value, bool) or not isinstance(value, int)):
                raise BadRequest(f"options.{key} must be an integer, got {json.dumps(value)}")
        if self._env is None:
            self._env = memory_manager_text(**self.env_kwargs)
        try:
            observation, info = self._env.reset(seed=seed, options=options)
        except (ValueError, TypeError, KeyError) as exc:  # the env validates options
            raise BadRequest(f"reset refused: {exc}") from exc
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
            raise BadRequest("call reset() before step() (over HTTP each request is a new env)")
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


MAX_BODY_BYTES = 1 << 20  # a completion is refused past 100,000 characters anyway


class BadRequest(ValueError):
    """A request the env refuses (unknown conversation, bad options, step before reset):
    HTTP 400 with the reason, never a 500."""


def create_memory_app(
    max_concurrent_envs: int = 4, max_body_bytes: int = MAX_BODY_BYTES, **env_kwargs: Any
) -> Any:
    """OpenEnv's FastAPI app over MemoryEnvironment (serve with uvicorn on 127.0.0.1); request
    bodies over `max_body_bytes` are refused with HTTP 413 before they are parsed."""
    app = create_app(
        functools.partial(MemoryEnvironment, **env_kwargs),
        MemoryAction,
        MemoryObservation,
        env_name="memgym",
        max_concurrent_envs=max_concurrent_envs,
    )

    async def bad_request(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    app.add_exception_handler(BadRequest, bad_request)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    return app


class BodyLimit:
    """ASGI middleware: an HTTP request body larger than `max_bytes` (declared or streamed) is
    answered with 413 before the app reads any of it."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        too_big = not declared.isdigit() or int(declared[:20]) > self.max_bytes
        body, more = b"", True
        while more and not too_big:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            too_big = len(body) > self.max_bytes
        if too_big:
            response = JSONResponse(
                {"detail": f"request body over {self.max_bytes} bytes"}, status_code=413
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                later: dict[str, Any] = await receive()  # e.g. waiting for a disconnect
                return later
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


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
