"""LLM clients behind one small interface: chat messages in, text out (single, batch, async).

`OpenAICompatibleClient` speaks the chat-completions API of vLLM, SGLang, Ollama, llama.cpp
server and hosted endpoints, with timeouts, bounded retries with exponential backoff on 429,
5xx, dropped connections and unreadable replies, a concurrency limit, and an optional response
cache. The API key is read from an environment variable and never printed or logged.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from memgym.agents.response_cache import ResponseCache, cache_key

Messages = list[dict[str, str]]


class LLMError(RuntimeError):
    """A call that failed after its retries; `kind` is timeout, http, connection or bad_response."""

    def __init__(self, kind: str, message: str, attempts: int, status: int | None = None) -> None:
        super().__init__(
            f"{kind}: {message} (after {attempts} attempt{'s' if attempts != 1 else ''})"
        )
        self.kind, self.attempts, self.status = kind, attempts, status


@runtime_checkable
class ChatClient(Protocol):
    """What agents and judges need from a model."""

    model: str

    def complete(self, messages: Messages) -> str: ...

    def complete_batch(self, batch: Sequence[Messages]) -> list[str | LLMError]: ...

    def __call__(self, messages: Messages) -> str: ...


def complete_sequentially(
    complete: Callable[[Messages], str], batch: Sequence[Messages]
) -> list[str | LLMError]:
    """`complete_batch` for clients without parallelism: in order, failures returned in place."""
    out: list[str | LLMError] = []
    for messages in batch:
        try:
            out.append(complete(messages))
        except LLMError as exc:
            out.append(exc)
    return out


@dataclass
class ClientStats:
    """Counters a result file records about a client's calls."""

    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)


class _Retryable(Exception):
    def __init__(
        self, kind: str, message: str, status: int | None = None, wait: float | None = None
    ):
        super().__init__(message)
        self.kind, self.status, self.wait = kind, status, wait


class OpenAICompatibleClient:
    """A chat-completions client for `base_url` (e.g. http://127.0.0.1:8000/v1)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.0,
        max_tokens: int = 512,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        concurrency: int = 8,
        cache: ResponseCache | str | Path | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        if max_retries < 0 or concurrency < 1 or timeout <= 0:
            raise ValueError("max_retries >= 0, concurrency >= 1 and timeout > 0 are required")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
        self.params.update(extra_body or {})
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.concurrency = concurrency
        self.cache = ResponseCache(cache) if isinstance(cache, (str, Path)) else cache
        self.stats = ClientStats()
        self._slots = threading.BoundedSemaphore(concurrency)
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(base_url={self.base_url!r}, model={self.model!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_slots"], state["_stats_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._stats_lock = threading.Lock()

    def describe(self) -> dict[str, Any]:
        """What a result file records (never the key)."""
        return {
            "backend": "openai-compatible",
            "base_url": self.base_url,
            "model": self.model,
            **self.params,
        }

    def __call__(self, messages: Messages) -> str:
        return self.complete(messages)

    def complete(self, messages: Messages) -> str:
        """The reply text; raises LLMError once retries are exhausted."""
        key = cache_key(self.model, messages, self.params)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                with self._stats_lock:
                    self.stats.cache_hits += 1
                return hit
        text = self._call_with_retries(messages)
        if self.cache is not None:
            self.cache.put(key, self.model, text)
        return text

    def complete_batch(self, batch: Sequence[Messages]) -> list[str | LLMError]:
        """Replies in order, at most `concurrency` in flight; failures are returned, not raised."""

        def one(messages: Messages) -> str | LLMError:
            try:
                return self.complete(messages)
            except LLMError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(one, batch))

    async def acomplete(self, messages: Messages) -> str:
        """`complete` for asyncio code (runs in a worker thread)."""
        return await asyncio.to_thread(self.complete, messages)

    def _call_with_retries(self, messages: Messages) -> str:
        last: _Retryable | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                assert last is not None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                time.sleep(last.wait if last.wait is not None else delay)
                with self._stats_lock:
                    self.stats.retries += 1
            try:
                with self._slots:
                    with self._stats_lock:
                        self.stats.calls += 1
                    return self._post(messages)
            except _Retryable as exc:
                last = exc
            except LLMError as exc:
                self._record_failure(exc)
                raise
        assert last is not None
        error = LLMError(last.kind, str(last), self.max_retries + 1, last.status)
        self._record_failure(error)
        raise error

    def _record_failure(self, error: LLMError) -> None:
        with self._stats_lock:
            self.stats.failures.append(
                {"error": str(error), "kind": error.kind, "status": error.status}
            )

    def _post(self, messages: Messages) -> str:
        body = json.dumps({"model": self.model, "messages": messages, **self.params}).encode()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{self.base_url}/chat/completions", body, headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                wait = float(retry_after) if retry_after and retry_after.isdigit() else None
                raise _Retryable("http", f"HTTP {exc.code}", exc.code, wait) from exc
            raise LLMError("http", f"HTTP {exc.code}: {exc.reason}", 1, exc.code) from exc
        except (TimeoutError, http.client.IncompleteRead) as exc:
            raise _Retryable(
                "timeout" if isinstance(exc, TimeoutError) else "connection", str(exc)
            ) from exc
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            kind = "timeout" if isinstance(reason, TimeoutError) else "connection"
            raise _Retryable(kind, str(reason)) from exc
        try:
            content = json.loads(raw)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise _Retryable("bad_response", f"unreadable reply: {raw[:200]!r}") from exc
        if not isinstance(content, str):
            raise _Retryable("bad_response", f"reply content is {type(content).__name__}")
        return content
