"""Fitted weights shipped with memgym (the supervised classifier, the ppo policy) and the one
way files of weights are read."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def read_weights(
    path: str | Path | None, shipped: str, error: type[ValueError]
) -> tuple[str, bytes]:
    """The name and bytes of a weights file: `path`, or the shipped file `shipped` when None;
    `error` (naming the file) when it cannot be read."""
    if path is None:
        shipped_file = resources.files(__name__).joinpath(shipped)
        return f"memgym/agents/weights/{shipped}", shipped_file.read_bytes()
    try:
        return str(path), Path(path).read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from exc
