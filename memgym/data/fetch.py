"""Download official dataset files into the data directory, verified and written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from memgym.io import sha256_file


@dataclass(frozen=True)
class Source:
    """Where an official file lives; `sha256` only where the publisher states one."""

    url: str
    filename: str
    sha256: str | None = None


SOURCES: dict[str, Source] = {
    "locomo": Source(
        "https://raw.githubusercontent.com/snap-research/locomo/main/data/locomo10.json",
        "locomo10.json",
    ),
    "longmemeval-oracle": Source(
        "https://huggingface.co/datasets/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_oracle.json",
        "longmemeval_oracle.json",
    ),
    "longmemeval-s": Source(
        "https://huggingface.co/datasets/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_s_cleaned.json",
        "longmemeval_s_cleaned.json",
    ),
    "longmemeval-m": Source(
        "https://huggingface.co/datasets/xiaowu0162/longmemeval-cleaned/resolve/main/longmemeval_m_cleaned.json",
        "longmemeval_m_cleaned.json",
    ),
    "msc": Source(
        "https://huggingface.co/datasets/MemGPT/MSC-Self-Instruct/resolve/main/msc_self_instruct.jsonl",
        "msc_self_instruct.jsonl",
    ),
}


class FetchError(RuntimeError):
    """A download that failed or did not match its published checksum."""


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
) -> Path:
    """Download `name` (a key of SOURCES) and return its path; an existing verified file is kept.

    `url` overrides the official address (mirrors, tests). The file appears only once complete
    and verified, so an interrupted download never leaves a partial file under the final name.
    """
    if name not in SOURCES:
        raise FetchError(f"unknown dataset {name!r}; expected one of {', '.join(SOURCES)}")
    source = SOURCES[name]
    address = url or source.url
    # urlopen also reads file:// and ftp:// addresses; a mirror is a web server.
    if urllib.parse.urlsplit(address).scheme not in ("http", "https"):
        raise FetchError(f"{name}: {address!r} is not an http(s) address")
    expected = sha256 or source.sha256
    target = (dest_dir or data_dir()) / source.filename
    if target.exists() and (expected is None or sha256_file(target) == expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{source.filename}.", suffix=".part"
    )
    digest = hashlib.sha256()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.build_opener(_WebRedirects).open(address, timeout=timeout) as resp,
        ):
            size = 0
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            declared = resp.headers.get("Content-Length")
            if declared is not None and int(declared) != size:
                raise OSError(f"incomplete download: got {size} of {declared} bytes")
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and digest.hexdigest() != expected:
            raise FetchError(
                f"{name}: sha256 {digest.hexdigest()} does not match the published {expected}"
            )
        os.replace(tmp_name, target)
    except OSError as exc:
        raise FetchError(f"{name}: download from {url or source.url} failed: {exc}") from exc
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return target
