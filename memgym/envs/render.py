"""Text rendering of a MemoryManagerEnv state (`render_mode="ansi"`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memgym.agents.base import RetrievedMemory
from memgym.data.schema import Fact
from memgym.engine import ConversationMemory


def render_manager_state(
    title: str,
    last: dict[str, Any],
    pending: Fact | None,
    shown: Sequence[RetrievedMemory],
    memory: ConversationMemory,
) -> str:
    """The last operation, the pending fact with the memories shown for it, and the bank."""
    lines = [title]
    if last:
        note = f" INVALID: {last['invalid']}" if last.get("invalid") else ""
        target = f" {last['entry_id']}" if last.get("entry_id") else ""
        lines.append(f"last fact: {last.get('fact')}")
        lines.append(f"last op: {last.get('op')}{target}{note}")
    if pending is not None:
        lines.append(f"pending fact ({pending.speaker}): {pending.text}")
        lines.append("shown memories:" if shown else "shown memories: none (the bank is empty)")
        lines.extend(f"  [{m.slot}] {m.text}" for m in shown)
    for namespace in memory.namespaces():
        entries = memory.bank.entries(namespace)
        lines.append(f"bank[{namespace}] ({len(entries)}):")
        lines.extend(f"  {e.id}: {e.text}" for e in entries)
    return "\n".join(lines) + "\n"
