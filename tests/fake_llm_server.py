"""A small chat-completions server on 127.0.0.1 for tests: scripted replies and failures."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

Reply = Callable[[dict[str, Any]], str]


@dataclass
class ServerState:
    """Behaviour queue and what the server saw. Each request pops one behaviour (the last one
    repeats): "ok", "500", "429", "drop", "garbage", "delay:<seconds>", "400", and the hostile
    ones: "drip:<seconds>" (a valid reply, one byte per interval), "retry-after:<seconds>"
    (429 asking to wait that long), "deep" (a reply of 1,000 nested brackets), "echo" (a
    non-JSON 400 body that echoes the request headers, key included), "echo-ok" (the same as a
    200 reply)."""

    behaviours: list[str] = field(default_factory=lambda: ["ok"])
    reply: Reply = lambda body: "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self) -> str:
        with self.lock:
            return self.behaviours.pop(0) if len(self.behaviours) > 1 else self.behaviours[0]


def _handler(state: ServerState) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append(body)
                state.headers.append(dict(self.headers))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            self._in_flight = True
            try:
                self._respond(body, state.next_behaviour())
            finally:
                self._leave()

        def send_response(self, code: int, message: str | None = None) -> None:
            # A request stops counting as in flight before its reply leaves: once the client
            # has the reply it may send the next one before this thread runs again.
            self._leave()
            super().send_response(code, message)

        def _leave(self) -> None:
            if getattr(self, "_in_flight", False):
                self._in_flight = False
                with state.lock:
                    state.in_flight -= 1

        def _respond(self, body: dict[str, Any], behaviour: str) -> None:
            if behaviour.startswith("delay:"):
                time.sleep(float(behaviour.split(":")[1]))
                behaviour = "ok"
            if behaviour == "drop":
                self.connection.close()
                return
            if behaviour.startswith("drip:"):
                self._drip(body, float(behaviour.split(":")[1]))
                return
            if behaviour.startswith("retry-after:"):
                self.send_response(429)
                self.send_header("Retry-After", behaviour.split(":")[1])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if behaviour in ("echo", "echo-ok"):
                echoed = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
                self.send_response(400 if behaviour == "echo" else 200)
                self.send_header("Content-Length", str(len(echoed)))
                self.end_headers()
                self.wfile.write(echoed)
                return
            if behaviour in ("500", "429", "400"):
                self.send_response(int(behaviour))
                if behaviour == "429":
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content = "[" * 1000 if behaviour == "deep" else state.reply(body)
            if behaviour == "garbage":
                self._send(b"<html>not json", "text/html")
            elif body.get("stream"):
                self._send(_stream(body, content), "text/event-stream")
            else:
                self._send(json.dumps(_completion(body, content)).encode(), "application/json")

        def do_GET(self) -> None:  # /v1/models, which some clients ask first
            models = {
                "object": "list",
                "data": [{"id": "fake", "object": "model", "owned_by": "x"}],
            }
            self._send(json.dumps(models).encode(), "application/json")

        def _send(self, payload: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _drip(self, body: dict[str, Any], interval: float) -> None:
            payload = json.dumps(_completion(body, state.reply(body))).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            try:
                for byte in payload:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(interval)
            except OSError:
                pass  # the client gave up, as it should

        def log_message(self, *args: object) -> None:
            pass

    return Handler


USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def _completion(body: dict[str, Any], content: str) -> dict[str, Any]:
    """A whole chat.completion object, as OpenAI's API returns it."""
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


def _stream(body: dict[str, Any], content: str) -> bytes:
    """The same reply as server-sent events (`stream: true`)."""

    def event(choices: list[dict[str, Any]], **extra: Any) -> bytes:
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": body.get("model", "fake"),
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    events = [
        event(
            [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": content},
                    "finish_reason": None,
                }
            ]
        ),
        event([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ]
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(event([], usage=USAGE))
    return b"".join(events) + b"data: [DONE]\n\n"


class _QuietServer(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # benchmarks open over a hundred connections at once

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # dropped connections are the point of some tests


@contextmanager
def fake_llm_server(state: ServerState) -> Iterator[str]:
    """Serve until the block ends; yields the base URL (ending in /v1)."""
    server = _QuietServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
