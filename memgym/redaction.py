"""Secrets never reach a result file: API keys and credential-looking text are masked, and
what is kept of a server's reply is capped."""

from __future__ import annotations

import os
import re

MAX_RECORDED_CHARS = 300
MASK = "[REDACTED]"
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)((?:authorization|api[-_]?key|x-api-key|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"
    ),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
)


def redact(text: str, secrets: tuple[str, ...] = (), limit: int = MAX_RECORDED_CHARS) -> str:
    """`text` with every secret and credential pattern masked, cut to `limit` characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def env_secret(name: str) -> tuple[str, ...]:
    """The value of environment variable `name`, as a secret to mask (empty if unset)."""
    value = os.environ.get(name, "")
    return (value,) if value else ()
