"""The results folder of a run: one writer at a time, a manifest naming the configuration,
one atomically written file per finished conversation, resumable after any interruption."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import IO, Any

from memgym.io import atomic_write_json

MANIFEST = "manifest.json"
RESULTS = "results.json"
# What a finished run holds besides conversations/: never replaced by another command.
RUN_FILES = frozenset(
    {
        RESULTS,
        MANIFEST,
        "predictions.jsonl",
        "leaderboard.md",
        "categories.png",
        ".lock",
        "llm_cache.sqlite",
    }
)


class ConfigMismatchError(RuntimeError):
    """The output folder holds results of a different configuration."""


class RunFolderError(RuntimeError):
    """The output folder cannot be used (not a folder, locked by another run, corrupt)."""


class RunFolder:
    """`out/` while a run holds its lock: `manifest.json`, `conversations/*.json`, results."""

    def __init__(self, out: Path) -> None:
        if out.exists() and not out.is_dir():
            raise RunFolderError(f"--out {out} is a file, not a folder")
        self.out = out
        self._lock: IO[str] | None = None

    def __enter__(self) -> RunFolder:
        self.out.mkdir(parents=True, exist_ok=True)
        lock = self.out / ".lock"
        while True:
            handle = lock.open("a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "?"
                handle.close()
                raise RunFolderError(
                    f"another memgym eval (pid {holder}) is writing {self.out}; wait for it or "
                    "choose another --out"
                ) from None
            # The holder removes the file when done: a lock on a removed file locks nothing.
            if lock.exists() and os.path.samestat(os.fstat(handle.fileno()), lock.stat()):
                break
            handle.close()
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            (self.out / ".lock").unlink(missing_ok=True)  # while still held (see __enter__)
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def conversation_path(self, conversation_id: str) -> Path:
        """A file name no other conversation id maps to (`conv/7` and `conv_7` differ)."""
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in conversation_id)
        digest = hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:10]
        return self.out / "conversations" / f"{safe[:80]}-{digest}.json"

    def check(
        self, fingerprint: str, restart: bool, settings: dict[str, Any] | None = None
    ) -> None:
        """Refuse to mix configurations in one folder, naming the settings that differ from
        the manifest's (`settings` is what `write_manifest` will record); `restart` discards
        earlier results."""
        manifest = self.out / MANIFEST
        if restart:
            manifest.unlink(missing_ok=True)
            for old in (self.out / "conversations").glob("*.json"):
                old.unlink()
            return
        if not manifest.exists():
            if (self.out / RESULTS).exists():
                raise ConfigMismatchError(
                    f"{self.out} holds a {RESULTS} of an unknown configuration (no {MANIFEST}); "
                    "use --restart to replace it"
                )
            return
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
            previous = recorded["fingerprint"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RunFolderError(
                f"{manifest} is corrupt ({type(exc).__name__}); use --restart to start over"
            ) from exc
        if previous != fingerprint:
            changed = setting_changes(recorded.get("config"), settings)
            what = f": {changed}" if changed else f" ({previous} != {fingerprint})"
            raise ConfigMismatchError(
                f"{self.out} holds results of another configuration or dataset{what}; use "
                "--restart to start over or choose another --out"
            )

    def write_manifest(self, fingerprint: str, config: dict[str, Any]) -> None:
        """Written with the first result, so a run that fails before any leaves no manifest."""
        manifest = self.out / MANIFEST
        if not manifest.exists():
            atomic_write_json(manifest, {"fingerprint": fingerprint, "config": config})

    def done(self, conversation_id: str) -> dict[str, Any] | None:
        """The saved result of a conversation, or None (a corrupt file is redone, with a note)."""
        path = self.conversation_path(conversation_id)
        if not path.exists():
            return None
        try:
            result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            if result.get("conversation_id") != conversation_id:
                raise ValueError("it holds another conversation")
            return result
        except (ValueError, UnicodeDecodeError) as exc:
            print(f"memgym: {path} is unreadable ({exc}); evaluating it again", file=sys.stderr)
            path.unlink()
            return None

    def save(self, result: dict[str, Any]) -> None:
        atomic_write_json(self.conversation_path(result["conversation_id"]), result)


def refuse_run_file(path: Path, option: str) -> None:
    """RunFolderError if writing `path` (the output of another command, e.g. `report --html`)
    would replace a file of a memgym eval folder: its results, manifest, predictions, tables or
    saved conversations."""
    target = path.resolve()
    for folder, inside in (
        (target.parent, target.name),
        (target.parent.parent, target.parent.name),
    ):
        is_run = (folder / MANIFEST).is_file() or (folder / RESULTS).is_file()
        if is_run and (inside in RUN_FILES or inside == "conversations"):
            raise RunFolderError(
                f"{option} {path} would overwrite a file of the run in {folder}; "
                "write it outside the run's files"
            )


def setting_changes(before: Any, after: Any, limit: int = 6) -> str:
    """The settings that differ between two recorded configurations, as `name: old -> new`
    (dotted names for nested settings); empty when either is unknown or nothing differs."""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ""
    old, new = _flatten(before), _flatten(after)
    keys = [k for k in dict.fromkeys([*old, *new]) if old.get(k, _MISSING) != new.get(k, _MISSING)]
    shown = [f"{k} {_show(old.get(k, _MISSING))} -> {_show(new.get(k, _MISSING))}" for k in keys]
    more = len(shown) - limit
    return "; ".join(shown[:limit]) + (f" (and {more} more)" if more > 0 else "")


_MISSING = object()


def _flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(unset)"
    return json.dumps(value) if not isinstance(value, str) else repr(value)
