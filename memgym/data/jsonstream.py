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
# A JSON escape of a surrogate, and of a low surrogate right after it (a valid pair).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LOW_ESCAPE = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
# What a lone surrogate escape becomes in the stream: U+FFFF, a noncharacter that the C parser
# accepts (a lone low surrogate makes it raise UnicodeDecodeError). Loaders replace it with
# U+FFFD and report the record and field (`memgym.textsafe.valid_json`).
SURROGATE_STAND_IN = b"\\uffff"
_ESCAPE_SPAN = 12  # a surrogate pair's two escapes


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


class SurrogateEscapes:
    """A binary file wrapper that rewrites the JSON escape of every lone surrogate (`\\udcff`,
    a high surrogate without its low half) to `\\uffff`, in place and at the same length.
    Escaped backslashes (`\\\\udcff` is text) and valid pairs pass unchanged."""

    def __init__(self, raw: Readable) -> None:
        self.raw = raw
        self.pending = b""
        self.backslashes = 0  # consecutive backslashes at the end of what was returned
        self.checked_until = 0  # bytes of `pending` already examined (a pair's low half)

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson asks read(0) for the type; b"" must not flush what is held back
            return b""
        while True:
            chunk = self.raw.read(size)
            data = bytearray(self.pending + chunk)
            # Keep the last bytes back until the next read: an escape pair may straddle them.
            cut = len(data) if not chunk else max(0, len(data) - _ESCAPE_SPAN + 1)
            if size > 0:  # never more than asked for: the C parser copies into a buffer
                cut = min(cut, size)
            if chunk and cut == 0:
                self.pending = bytes(data)
                continue
            self._rewrite(data, cut)
            out, self.pending = bytes(data[:cut]), bytes(data[cut:])
            trailing = len(out) - len(out.rstrip(b"\\"))
            self.backslashes = trailing + (self.backslashes if trailing == len(out) else 0)
            return out

    def _rewrite(self, data: bytearray, cut: int) -> None:
        checked = self.checked_until  # the low half of a pair seen before: not lone
        for match in _SURROGATE_ESCAPE.finditer(data) if b"\\u" in data else ():
            start = match.start()
            if start >= cut:
                break
            if start < checked or not self._escapes(data, start):
                continue
            if data[start + 3] in b"89abAB" and _LOW_ESCAPE.match(data, start + 6):
                checked = start + _ESCAPE_SPAN
                continue
            data[start : start + 6] = SURROGATE_STAND_IN
        self.checked_until = max(0, checked - cut)

    def _escapes(self, data: bytearray, at: int) -> bool:
        """Whether the backslash at `at` starts an escape (an even run of backslashes before)."""
        run = 0
        while at - run - 1 >= 0 and data[at - run - 1] == 0x5C:
            run += 1
        if run == at:
            run += self.backslashes
        return run % 2 == 0


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
    yield from ijson.items(DepthGuard(SurrogateEscapes(stream)), prefix, use_float=True)


def load_root(stream: IO[bytes]) -> Any:
    """The whole JSON document, streamed through a DepthGuard (no recursion limit involved)."""
    for item in iter_items(stream, ""):
        return item
    raise ValueError("empty JSON document")
