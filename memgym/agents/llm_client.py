"""LLM clients behind one small interface: chat messages in, text out (single, batch, async).

`OpenAICompatibleClient` speaks the chat-completions API of vLLM, SGLang, Ollama, llama.cpp
server and hosted endpoints. Every call has a deadline covering connection and the whole reply
(a server that drips bytes cannot hold a call past it); 429, 5xx, dropped connections and
unreadable replies are retried with exponential backoff, a server's `Retry-After` honoured up
to `max_retry_after` and the call's own `timeout`; after `breaker` calls in a row fail, the
endpoint is not called again for `cooldown` seconds (calls fail at once, kind "circuit_open").
A dead endpoint is not called again by this client: `dead_after` attempts in a row refused or
reset, or `dead_silent` of them without a complete reply within `timeout` (whichever calls
they belong to; a retry after a timeout starts at once). A run against it stops within
`dead_silent` x `timeout` (2 minutes by default), every later call failing at once, recorded.
Any reply resets the count: a slow reply that arrives within `timeout` is no failure. At
most `concurrency` calls are in flight to
one endpoint from one process, however many clients with that `concurrency` (conversations
evaluated in threads) share it. Replies can be cached (SQLite) under a key that includes the
endpoint, the model and every sampling parameter; a reply the caller finds unusable is not
cached. The API key is read from an environment variable, never printed, and masked in
anything recorded.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from memgym.agents.response_cache import ResponseCache, cache_key
from memgym.redaction import env_secret, redact
from memgym.textsafe import valid_text

Messages = list[dict[str, str]]
Usable = Callable[[str], bool]

_SLOTS: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def endpoint_slots(base_url: str, concurrency: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore bounding calls in flight to `base_url` at `concurrency`
    (shared by every client of that endpoint with that concurrency)."""
    with _SLOTS_LOCK:
        return _SLOTS.setdefault((base_url, concurrency), threading.BoundedSemaphore(concurrency))


def _forget_slots() -> None:
    # A forked child inherits the parent's semaphores with the slots its threads held, which
    # no thread of the child will ever release.
    global _SLOTS_LOCK
    _SLOTS.clear()
    _SLOTS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_slots)


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

    def complete_batch(
        self, batch: Sequence[Messages], usable: Usable | None = None
    ) -> list[str | LLMError]:
        """Replies in order, failures in place; a reply failing `usable` is not cached (clients
        without a cache have nothing to skip)."""
        ...

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
    """Counters a result file records about a client's calls. `requests` and the token counts
    cover every reply the caller got, cached or not, counted with the stated tokenizer
    (`memgym.tokens.TOKENIZER_NAME`), so they do not change when a run is resumed;
    `calls`, `cache_hits` and `retries` describe what reached the endpoint."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def record(self, messages: Messages, reply: str) -> None:
        from memgym.tokens import count_tokens

        self.requests += 1
        self.prompt_tokens += sum(count_tokens(m.get("content", "")) for m in messages)
        self.completion_tokens += count_tokens(reply)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "failures": len(self.failures),
        }


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
        max_retry_after: float = 30.0,
        breaker: int = 5,
        cooldown: float = 30.0,
        dead_after: int = 3,
        dead_silent: int = 2,
        concurrency: int = 8,
        cache: ResponseCache | str | Path | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        if max_retries < 0 or concurrency < 1 or timeout <= 0:
            raise ValueError("max_retries >= 0, concurrency >= 1 and timeout > 0 are required")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
        self.params.update(extra_body or {})
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff
        self.max_retry_after = max_retry_after
        self.breaker, self.cooldown = breaker, cooldown
        self.dead_after, self.dead_silent = dead_after, dead_silent
        # Attempts in a row (across threads) refused or reset, and those of them that timed out.
        self._dead_in_a_row = 0
        self._silent_in_a_row = 0
        self._failed_in_a_row = 0
        self._open_until = 0.0
        self.concurrency = concurrency
        self.cache = ResponseCache(cache) if isinstance(cache, (str, Path)) else cache
        self.stats = ClientStats()
        self._stats_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(base_url={self.base_url!r}, model={self.model!r})"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["_stats_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
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

    def _key(self, messages: Messages) -> str:
        return cache_key(self.model, messages, {"endpoint": self.base_url, **self.params})

    def complete(self, messages: Messages, usable: Usable | None = None) -> str:
        """The reply text; raises LLMError once retries are exhausted. A reply for which
        `usable` is false is returned but not cached."""
        key = self._key(messages)
        text = None if self.cache is None else self.cache.get(key)
        if text is not None:
            with self._stats_lock:
                self.stats.cache_hits += 1
        else:
            text = self._call_with_retries(messages)
            if self.cache is not None and (usable is None or usable(text)):
                self.cache.put(key, self.model, text)
        with self._stats_lock:
            self.stats.record(messages, text)
        return text

    def complete_batch(
        self, batch: Sequence[Messages], usable: Usable | None = None
    ) -> list[str | LLMError]:
        """Replies in order, at most `concurrency` in flight; failures are returned, not raised."""

        def one(messages: Messages) -> str | LLMError:
            try:
                return self.complete(messages, usable)
            except LLMError as exc:
                return exc

        if len(batch) <= 1:
            return [one(m) for m in batch]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batch))) as pool:
            return list(pool.map(one, batch))

    async def acomplete(self, messages: Messages) -> str:
        """`complete` for asyncio code (runs in a worker thread)."""
        return await asyncio.to_thread(self.complete, messages)

    def _call_with_retries(self, messages: Messages) -> str:
        if self._dead():
            error = LLMError(
                "circuit_open",
                f"the endpoint is dead ({self._dead_in_a_row} attempts in a row refused, reset "
                f"or without a reply within {self.timeout:g} s); not called again in this run",
                0,
            )
            self._record_failure(error)
            raise error
        if time.monotonic() < self._open_until:
            error = LLMError(
                "circuit_open",
                f"the endpoint failed {self._failed_in_a_row} calls in a row; not called "
                f"again for {self.cooldown:g} s",
                0,
            )
            self._record_failure(error)
            raise error
        try:
            text = self._attempts(messages)
        except LLMError:
            with self._stats_lock:
                self._failed_in_a_row += 1
                if self._failed_in_a_row >= self.breaker:
                    self._open_until = time.monotonic() + self.cooldown
            raise
        with self._stats_lock:
            self._failed_in_a_row = 0
        return text

    def _attempts(self, messages: Messages) -> str:
        last: _Retryable | None = None
        made = 0
        for attempt in range(self.max_retries + 1):
            if attempt:
                assert last is not None
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                if last.wait is not None:  # honoured, but never longer than a call may take
                    delay = min(last.wait, self.max_retry_after, self.timeout)
                if last.kind == "timeout":
                    delay = 0.0  # it has waited a whole timeout already
                if self._dead():
                    break
                time.sleep(delay)
                with self._stats_lock:
                    self.stats.retries += 1
            try:
                # Looked up per call, so that a forked child uses its own (see _forget_slots).
                with endpoint_slots(self.base_url, self.concurrency):
                    with self._stats_lock:
                        self.stats.calls += 1
                    made += 1
                    text = self._post(messages)
                with self._stats_lock:
                    self._dead_in_a_row = self._silent_in_a_row = 0
                return text
            except _Retryable as exc:
                last = exc
                with self._stats_lock:  # an HTTP error is a reply: the endpoint is alive
                    alive = exc.kind not in ("timeout", "connection")
                    self._dead_in_a_row = 0 if alive else self._dead_in_a_row + 1
                    silent = exc.kind == "timeout"
                    self._silent_in_a_row = 0 if alive else self._silent_in_a_row + silent
            except LLMError as exc:
                self._record_failure(exc)
                raise
        assert last is not None
        error = LLMError(last.kind, str(last), made, last.status)
        self._record_failure(error)
        raise error

    def _dead(self) -> bool:
        return self._dead_in_a_row >= self.dead_after or self._silent_in_a_row >= self.dead_silent

    def _record_failure(self, error: LLMError) -> None:
        with self._stats_lock:
            self.stats.failures.append(
                {"error": str(error), "kind": error.kind, "status": error.status}
            )

    def _post(self, messages: Messages) -> str:
        """One request with a deadline of `timeout` seconds for connecting and the whole reply."""
        body = json.dumps({"model": self.model, "messages": messages, **self.params}).encode()
        headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        secrets = env_secret(self.api_key_env)
        deadline = time.monotonic() + self.timeout
        url = urllib.parse.urlsplit(f"{self.base_url}/chat/completions")
        connection_type = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_type(url.netloc, timeout=self.timeout)
        try:
            connection.request("POST", url.path, body, headers)
            sock = connection.sock  # getresponse() may drop the connection's reference to it
            sock.settimeout(_remaining(deadline))
            response = connection.getresponse()
            raw = _read_before(sock, response, deadline)
            status = response.status
            retry_after = response.getheader("Retry-After")
        except TimeoutError as exc:
            raise _Retryable("timeout", f"no complete reply within {self.timeout:g} s") from exc
        except (http.client.HTTPException, ConnectionError, OSError) as exc:
            raise _Retryable("connection", redact(str(exc), secrets)) from exc
        finally:
            connection.close()
        if status == 429 or status >= 500:
            wait = (
                float(retry_after)
                if retry_after and retry_after.isascii() and retry_after.isdigit()
                else None
            )
            raise _Retryable("http", f"HTTP {status}", status, wait)
        if status >= 400:
            text = redact(raw.decode("utf-8", "replace"), secrets)
            raise LLMError("http", f"HTTP {status}: {text}", 1, status)
        try:
            reply = json.loads(raw)
            content = reply["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError) as exc:
            shown = redact(raw.decode("utf-8", "replace"), secrets)
            raise _Retryable("bad_response", f"unreadable reply: {shown!r}") from exc
        if not isinstance(content, str):
            raise _Retryable("bad_response", f"reply content is {type(content).__name__}")
        # Lone surrogates (legal JSON escapes) would break the reply cache and every file write.
        return valid_text(content, f"{self.base_url} ({self.model}): reply field 'content'")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


def _read_before(sock: socket.socket, response: http.client.HTTPResponse, deadline: float) -> bytes:
    """The whole body, or TimeoutError once the deadline passes (however slowly it arrives):
    every read waits at most for what is left of the deadline."""
    chunks: list[bytes] = []
    while True:
        sock.settimeout(_remaining(deadline))
        chunk = response.read1(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
