"""Streaming JSON reads with bounded nesting: dataset files of any size, untrusted input.

ijson tracks the path of every value, so a file of deeply nested brackets costs memory
quadratic in its depth (a 200 KB file of `[` reached 22 GB). Every stream is therefore read
through `DepthGuard`, which scans the bytes as they pass (string-aware) and stops at
`MAX_DEPTH` levels, far beyond any real dataset (LoCoMo nests 5 deep).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import ijson

MAX_DEPTH = 64
_STRUCTURE = re.compile(rb'["\\\[\]{}]')
BOM = b"\xef\xbb\xbf"


class TooDeepError(ValueError):
    """JSON nesting beyond the allowed depth."""

    def __init__(self, offset: int, limit: int) -> None:
        super().__init__(f"JSON nests deeper than {limit} levels at byte {offset}")
        self.offset = offset


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class DepthGuard:
    """A binary file wrapper that raises TooDeepError once arrays/objects nest too deep."""

    def __init__(self, raw: Readable, max_depth: int = MAX_DEPTH) -> None:
        self.raw = raw
        self.max_depth = max_depth
        self.depth = 0
        self.in_string = False
        self.offset = 0
        self._escaped_at = -1  # absolute offset of a byte escaped by a backslash

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.scan(chunk)
        return chunk

    def scan(self, chunk: bytes) -> None:
        base = self.offset
        for match in _STRUCTURE.finditer(chunk):
            at = base + match.start()
            if at == self._escaped_at:
                continue
            ch = match.group()
            if self.in_string:
                if ch == b"\\":
                    self._escaped_at = at + 1
                elif ch == b'"':
                    self.in_string = False
            elif ch == b'"':
                self.in_string = True
            elif ch in (b"[", b"{"):
                self.depth += 1
                if self.depth > self.max_depth:
                    raise TooDeepError(at, self.max_depth)
            elif ch in (b"]", b"}"):
                self.depth -= 1
        self.offset = base + len(chunk)


def json_depth_ok(text: str, max_depth: int = MAX_DEPTH) -> bool:
    """Whether `text` nests JSON brackets at most `max_depth` deep (strings ignored)."""
    try:
        DepthGuard(io.BytesIO(), max_depth).scan(text.encode("utf-8", "surrogatepass"))
    except TooDeepError:
        return False
    return True


def open_json(path: Path) -> IO[bytes]:
    """The file opened for binary reading, positioned after a UTF-8 byte-order mark if any."""
    f = path.open("rb")
    if f.read(3) != BOM:
        f.seek(0)
    return f


def has_bom(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(3) == BOM


def iter_items(stream: IO[bytes], prefix: str = "item") -> Iterator[Any]:
    """ijson items under `prefix` (floats as float), read through a DepthGuard."""
    yield from ijson.items(DepthGuard(stream), prefix, use_float=True)


def load_root(stream: IO[bytes]) -> Any:
    """The whole JSON document, streamed through a DepthGuard (no recursion limit involved)."""
    for item in iter_items(stream, ""):
        return item
    raise ValueError("empty JSON document")
