"""Download official dataset files into the data directory, verified and written atomically."""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from memgym.data.loading import detect_layout, validate
from memgym.errors import DatasetError
from memgym.io import sha256_file
from memgym.redaction import MASK, redact
from memgym.textsafe import parse_index

MiB = 1 << 20


@dataclass(frozen=True)
class Source:
    """Where an official file lives, what it must parse as, and how much of it a download may
    take: at most `max_bytes` bytes within `deadline` seconds (a server that sends too much or
    trickles bytes is cut off). `sha256` only where the publisher states one."""

    url: str
    filename: str
    dataset: str
    max_bytes: int
    deadline: float
    sha256: str | None = None


_HF = "https://huggingface.co/datasets"
SOURCES: dict[str, Source] = {
    "locomo": Source(
        "https://raw.githubusercontent.com/snap-research/locomo/main/data/locomo10.json",
        "locomo10.json",
        "locomo",
        max_bytes=64 * MiB,  # the release is 2.8 MB
        deadline=120.0,
    ),
    "longmemeval-oracle": Source(
        f"{_HF}/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_oracle.json",
        "longmemeval_oracle.json",
        "longmemeval",
        max_bytes=256 * MiB,  # about 15 MB
        deadline=600.0,
    ),
    "longmemeval-s": Source(
        f"{_HF}/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_s_cleaned.json",
        "longmemeval_s_cleaned.json",
        "longmemeval",
        max_bytes=2048 * MiB,  # about 277 MB
        deadline=3600.0,
    ),
    "longmemeval-m": Source(
        f"{_HF}/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_m_cleaned.json",
        "longmemeval_m_cleaned.json",
        "longmemeval",
        max_bytes=16384 * MiB,  # about 2.7 GB
        deadline=4 * 3600.0,
    ),
    "msc": Source(
        f"{_HF}/MemGPT/MSC-Self-Instruct/resolve/main/msc_self_instruct.jsonl",
        "msc_self_instruct.jsonl",
        "msc",
        max_bytes=256 * MiB,
        deadline=600.0,
    ),
}


class FetchError(RuntimeError):
    """A download that failed or did not match its published checksum."""


class _Cut(OSError):
    """A download stopped by its limits (deadline, size) or by a malformed reply."""


def data_dir() -> Path:
    """`$MEMGYM_DATA`, else `~/.cache/memgym`."""
    return Path(os.environ.get("MEMGYM_DATA") or Path.home() / ".cache" / "memgym")


class _WebRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) addresses only (urllib's own handler also follows ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FetchError(f"{req.full_url} redirects to {newurl!r}, not an http(s) address")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(
    name: str,
    *,
    url: str | None = None,
    sha256: str | None = None,
    dest_dir: Path | None = None,
    timeout: float = 60.0,
    deadline: float | None = None,
    max_bytes: int | None = None,
) -> Path:
    """Download `name` (a key of SOURCES) and return its path; an existing file is kept when it
    matches the checksum or, without one, looks like the dataset.

    `url` overrides the official address (mirrors, tests); `timeout` bounds each network wait,
    `deadline` (default: the source's) the whole download, `max_bytes` (default: the source's)
    its size. The download must parse as the dataset (`memgym data validate` finds no error in
    it) before it replaces anything, so a login page or an interrupted download never appears
    under the final name.
    """
    if name not in SOURCES:
        raise FetchError(f"unknown dataset {name!r}; expected one of {', '.join(SOURCES)}")
    source = SOURCES[name]
    address = url or source.url
    shown = shown_url(address)
    try:
        scheme = urllib.parse.urlsplit(address).scheme
    except ValueError as exc:  # e.g. "Invalid IPv6 URL"
        raise FetchError(f"{name}: {shown!r} is not a valid address ({exc})") from exc
    # urlopen also reads file:// and ftp:// addresses; a mirror is a web server.
    if scheme not in ("http", "https"):
        raise FetchError(f"{name}: {shown!r} is not an http(s) address")
    expected = sha256 or source.sha256
    target = (dest_dir or data_dir()) / source.filename
    if target.exists() and _usable(target, source.dataset, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{source.filename}.", suffix=".part"
    )
    limits = _Limits(
        time.monotonic() + (source.deadline if deadline is None else deadline),
        source.max_bytes if max_bytes is None else max_bytes,
        timeout,
    )
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _download(address, out, limits)
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and digest != expected:
            raise FetchError(f"{name}: sha256 {digest} does not match the published {expected}")
        _check_parses(Path(tmp_name), source.dataset, name, shown)
        os.replace(tmp_name, target)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # ValueError: an address urllib cannot use (bad port, bad IPv6); never a traceback.
        message = str(exc).replace(address, shown)
        raise FetchError(f"{name}: download from {shown} failed: {message}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target


def shown_url(address: str) -> str:
    """`address` as errors may show it: no user name or password, credential-like query values
    masked."""
    try:
        parts = urllib.parse.urlsplit(address)
        if parts.username is not None or parts.password is not None:
            host = parts.netloc.rsplit("@", 1)[-1]
            address = urllib.parse.urlunsplit(parts._replace(netloc=f"{MASK}@{host}"))
    except ValueError:
        address = address.rsplit("@", 1)[-1] if "@" in address else address
    return redact(address, limit=500)


@dataclass(frozen=True)
class _Limits:
    deadline: float  # time.monotonic() by which the download must be complete
    max_bytes: int
    timeout: float

    def wait(self) -> float:
        """How long the next network operation may wait."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Cut("the download did not complete within its deadline")
        return min(self.timeout, left)


def _download(address: str, out: BinaryIO, limits: _Limits) -> str:
    """Stream the body into `out` within the limits; returns its sha256."""
    digest = hashlib.sha256()
    opener = urllib.request.build_opener(_WebRedirects)
    with opener.open(address, timeout=limits.wait()) as resp:
        declared_header = resp.headers.get("Content-Length")
        declared = None if declared_header is None else parse_index(declared_header, 18)
        if declared_header is not None and declared is None:
            raise _Cut(f"the server sent an invalid Content-Length {declared_header!r}")
        if declared is not None and declared > limits.max_bytes:
            raise _Cut(f"the server announces {declared} bytes, over {limits.max_bytes}")
        size = 0
        while True:
            _set_timeout(resp, limits.wait())
            try:
                chunk = resp.read1(1 << 16)  # what has arrived: a trickle cannot block past it
            except TimeoutError:
                limits.wait()  # says so when it was the deadline
                raise
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_bytes:
                raise _Cut(f"the download exceeds {limits.max_bytes} bytes")
            digest.update(chunk)
            out.write(chunk)
        if declared is not None and declared != size:
            raise _Cut(f"incomplete download: got {size} of {declared} bytes")
    return digest.hexdigest()


def _set_timeout(resp: Any, seconds: float) -> None:
    """Every read waits at most until the deadline (urllib gives no public way to the socket)."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _usable(path: Path, dataset: str, expected: str | None) -> bool:
    if expected is not None:
        return sha256_file(path) == expected
    try:
        return detect_layout(path)[0] == dataset
    except DatasetError:
        return False


def _check_parses(path: Path, dataset: str, name: str, shown: str) -> None:
    errors = [p for p in validate(path, dataset) if p.severity == "error"]
    if errors:
        first = errors[0]
        where = f"record {first.record}: " if first.record is not None else ""
        raise FetchError(
            f"{name}: what {shown} sent is not a {dataset} file ({where}{first.message}); "
            "nothing was replaced"
        )
