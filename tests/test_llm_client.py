"""The OpenAI-compatible client against a local server that delays, fails and talks nonsense."""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import ServerState, fake_llm_server

from memgym.agents import LLMError, OpenAICompatibleClient, ResponseCache
from memgym.agents.response_cache import enable_wal

MESSAGES = [{"role": "user", "content": "hello"}]


def _client(url: str, **kwargs: object) -> OpenAICompatibleClient:
    options: dict[str, object] = {"backoff": 0.01, "max_backoff": 0.02, "timeout": 2.0}
    options.update(kwargs)
    return OpenAICompatibleClient(url, "test-model", **options)  # type: ignore[arg-type]


def test_request_format_and_reply() -> None:
    state = ServerState(reply=lambda body: f"echo {body['messages'][-1]['content']}")
    with fake_llm_server(state) as url:
        client = _client(url, temperature=0.0, max_tokens=32)
        assert client.complete(MESSAGES) == "echo hello"
    (body,) = state.requests
    assert body == {
        "model": "test-model",
        "messages": MESSAGES,
        "temperature": 0.0,
        "max_tokens": 32,
    }


@pytest.mark.parametrize("failure", ["500", "429", "drop", "garbage"])
def test_transient_failures_are_retried(failure: str) -> None:
    state = ServerState(behaviours=[failure, failure, "ok"])
    with fake_llm_server(state) as url:
        client = _client(url, max_retries=3)
        assert client.complete(MESSAGES) == "ok"
    assert len(state.requests) == 3
    assert client.stats.retries == 2 and client.stats.failures == []


def test_exhausted_retries_raise_and_are_recorded() -> None:
    state = ServerState(behaviours=["500"])
    with fake_llm_server(state) as url:
        client = _client(url, max_retries=2)
        with pytest.raises(LLMError, match=r"http: HTTP 500 \(after 3 attempts\)") as info:
            client.complete(MESSAGES)
    assert info.value.status == 500 and len(state.requests) == 3
    assert client.stats.failures == [{"error": str(info.value), "kind": "http", "status": 500}]


def test_client_errors_are_not_retried() -> None:
    state = ServerState(behaviours=["400"])
    with fake_llm_server(state) as url:
        client = _client(url)
        with pytest.raises(LLMError, match="HTTP 400"):
            client.complete(MESSAGES)
    assert len(state.requests) == 1 and len(client.stats.failures) == 1


def test_timeout_is_enforced_and_retried() -> None:
    state = ServerState(behaviours=["delay:1.0", "ok"])
    with fake_llm_server(state) as url:
        client = _client(url, timeout=0.2, max_retries=1)
        start = time.perf_counter()
        assert client.complete(MESSAGES) == "ok"
        assert time.perf_counter() - start < 0.9
    state = ServerState(behaviours=["delay:0.5"])
    with fake_llm_server(state) as url:
        client = _client(url, timeout=0.1, max_retries=1)
        with pytest.raises(LLMError, match="timeout"):
            client.complete(MESSAGES)


def test_cache_answers_repeats_without_calling_and_survives_restart(tmp_path: Path) -> None:
    state = ServerState(reply=lambda body: f"reply to {body['messages'][-1]['content']}")
    with fake_llm_server(state) as url:
        client = _client(url, cache=tmp_path / "cache.sqlite")
        assert client.complete(MESSAGES) == "reply to hello"
        assert client.complete(MESSAGES) == "reply to hello"
        other = [{"role": "user", "content": "other"}]
        assert client.complete(other) == "reply to other"
        assert len(state.requests) == 2 and client.stats.cache_hits == 1
        hotter = _client(url, cache=tmp_path / "cache.sqlite", temperature=0.7)
        hotter.complete(MESSAGES)  # other sampling parameters: a different key
        assert len(state.requests) == 3
    # The endpoint is down: the same endpoint and model answer from the cache, another does not.
    restarted = _client(url, cache=ResponseCache(tmp_path / "cache.sqlite"), max_retries=0)
    assert restarted.complete(MESSAGES) == "reply to hello"
    elsewhere = OpenAICompatibleClient(
        "http://127.0.0.1:9/v1", "test-model", cache=tmp_path / "cache.sqlite", max_retries=0
    )
    with pytest.raises(LLMError, match="connection"):
        elsewhere.complete(MESSAGES)


def test_batch_respects_concurrency_and_returns_failures_in_place() -> None:
    state = ServerState(behaviours=["delay:0.1"], reply=lambda body: body["messages"][0]["content"])
    with fake_llm_server(state) as url:
        client = _client(url, concurrency=2)
        batch = [[{"role": "user", "content": str(i)}] for i in range(6)]
        assert client.complete_batch(batch) == [str(i) for i in range(6)]
    assert state.max_in_flight <= 2
    with fake_llm_server(ServerState(behaviours=["ok", "400"])) as url:
        results = _client(url, concurrency=1).complete_batch(
            [MESSAGES, [{"role": "user", "content": "x"}]]
        )
        assert results[0] == "ok" and isinstance(results[1], LLMError)


def test_async_completion() -> None:
    with fake_llm_server(ServerState()) as url:
        client = _client(url)

        async def run() -> list[str]:
            return await asyncio.gather(client.acomplete(MESSAGES), client.acomplete(MESSAGES))

        assert asyncio.run(run()) == ["ok", "ok"]


def test_api_key_comes_from_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_ENDPOINT_KEY", "sk-secret-123")
    state = ServerState()
    with fake_llm_server(state) as url:
        client = _client(url, api_key_env="MY_ENDPOINT_KEY")
        client.complete(MESSAGES)
    assert state.headers[0]["Authorization"] == "Bearer sk-secret-123"
    for shown in (repr(client), str(client.describe()), str(pickle.dumps(client))):
        assert "sk-secret" not in shown


def test_connection_refused_is_a_connection_error() -> None:
    client = OpenAICompatibleClient(
        "http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.01, timeout=1
    )
    with pytest.raises(LLMError, match="connection"):
        client.complete(MESSAGES)


def test_clients_of_one_endpoint_share_its_concurrency_bound() -> None:
    state = ServerState(behaviours=["delay:0.2"])
    with fake_llm_server(state) as url:
        clients = [OpenAICompatibleClient(url, "m", concurrency=2) for _ in range(3)]
        twin = pickle.loads(pickle.dumps(clients[0]))
        threads = [
            threading.Thread(target=client.complete_batch, args=([MESSAGES] * 3,))
            for client in [*clients, twin]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert state.max_in_flight == 2


def _complete_in_child(client: OpenAICompatibleClient, done: Any) -> None:
    client.complete(MESSAGES)
    done.set()


def test_a_process_forked_while_a_call_is_in_flight_gets_its_own_slots() -> None:
    context = multiprocessing.get_context("fork")
    state = ServerState(behaviours=["delay:3", "ok"])
    with fake_llm_server(state) as url:
        client = OpenAICompatibleClient(url, "m", concurrency=1, timeout=10, max_retries=0)
        holder = threading.Thread(target=client.complete, args=(MESSAGES,))
        holder.start()
        while not state.requests:  # the parent's only slot is now taken
            time.sleep(0.01)
        done = context.Event()
        child = context.Process(target=_complete_in_child, args=(client, done))
        child.start()
        finished = done.wait(2.5)  # before the parent's call returns at 3 s
        child.join(10)
        holder.join()
    assert finished and child.exitcode == 0


def test_a_cache_opened_while_the_file_is_locked_waits_for_it() -> None:
    class Refusing:  # refuses the journal-mode switch twice, as SQLite does under contention
        def __init__(self) -> None:
            self.tries = 0

        def execute(self, sql: str) -> None:
            self.tries += 1
            if self.tries <= 2:
                raise sqlite3.OperationalError("database is locked")

    db = Refusing()
    enable_wal(db, timeout=5)
    assert db.tries == 3
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(Refusing(), timeout=0)
