"""Memory-manager actions: one path from any accepted form to a checked decision.

Accepted forms: a dict `{"op", "target", "text"}` (the env's action space; numpy scalars and
bytes allowed), a completion string (Mem0-style JSON or `UPDATE 2: text`), or a
`ManagerDecision`. `decode_action` reads the form; `validate_decision` applies the one set of
rules (target slot shown, text present, UTF-8, within `MemoryConfig` limits). The env, the
engine behind the leaderboard, the text wrapper and every trainer adapter go through
`check_action`, so the same malformed action is refused everywhere with the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from memgym.agents.base import ManagerDecision, RetrievedMemory
from memgym.agents.parsing import parse_manager_output
from memgym.config import MemoryConfig
from memgym.data.schema import Fact
from memgym.memory.operations import Op


def words(text: str) -> int:
    """The word count that memory limits use (white-space separated tokens)."""
    return len(text.split())


def decode_action(action: Any) -> ManagerDecision:
    """A decision from any accepted form; what cannot be read becomes `error` (never raises)."""
    if isinstance(action, ManagerDecision):
        return action
    if isinstance(action, str):
        return parse_manager_output(action)
    if not isinstance(action, Mapping):
        return ManagerDecision(
            Op.NOOP, error=f"action must be a dict or str, got {type(action).__name__}"
        )
    try:
        op = Op.parse(_plain(action["op"]))
    except (KeyError, ValueError, TypeError, AttributeError):
        return ManagerDecision(Op.NOOP, error=f"unknown op {_short(action.get('op'))}")
    target = _plain(action.get("target"))
    if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
        return ManagerDecision(op, error=f"target must be an int slot, got {_short(target)}")
    text = action.get("text")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            return ManagerDecision(op, error="text is not valid UTF-8")
    if text is not None and not isinstance(text, str):
        return ManagerDecision(op, error=f"text must be a string, got {type(text).__name__}")
    return ManagerDecision(op, None if target is None or target < 0 else target, text)


def validate_decision(
    decision: ManagerDecision,
    visible: Sequence[RetrievedMemory],
    fact: Fact,
    config: MemoryConfig,
) -> str | None:
    """Why the decision cannot be applied to the shown memories, or None if it can."""
    if decision.error is not None:
        return decision.error
    op, target = decision.op, decision.target
    if not isinstance(op, Op):
        return f"unknown operation {_short(op)}"
    if op in (Op.UPDATE, Op.DELETE):
        if target is None:
            return f"{op.name} needs a target slot"
        if not visible:
            return f"{op.name} needs a target slot, but no memory is shown"
        if not 0 <= target < len(visible):
            return f"target slot {target} is not shown (slots 0..{len(visible) - 1})"
    if op not in (Op.ADD, Op.UPDATE):
        return None
    text = decision.text
    if not isinstance(text, str) or not text.strip():
        return f"{op.name} needs a non-empty text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text is not valid UTF-8"
    stripped = text.strip()
    if len(stripped) > config.max_text_chars:
        return f"text has {len(stripped)} characters, over the limit of {config.max_text_chars}"
    allowed = max(config.max_memory_words, words(fact.text))
    if op == Op.UPDATE:
        assert target is not None
        allowed = max(allowed, words(visible[target].text))
    if words(stripped) > allowed:
        return (
            f"{op.name} text has {words(stripped)} words, over the limit of {allowed} "
            f"(max_memory_words {config.max_memory_words}, or the longer of the fact and the "
            "memory it rewrites)"
        )
    return None


def check_action(
    action: Any, visible: Sequence[RetrievedMemory], fact: Fact, config: MemoryConfig
) -> ManagerDecision:
    """The decision for `action`, normalised (ADD has no target; a NOOP's target must be
    shown), with `error` set when it cannot be applied."""
    decision = decode_action(action)
    reason = validate_decision(decision, visible, fact, config)
    if reason is not None:
        return replace(decision, error=reason)
    target = decision.target
    if decision.op == Op.ADD or (target is not None and target >= len(visible)):
        target = None
    text = decision.text.strip() if decision.op in (Op.ADD, Op.UPDATE) and decision.text else None
    return replace(decision, target=target, text=text)


def _plain(value: Any) -> Any:
    """numpy scalars (from sampled actions) as Python values."""
    return value.item() if isinstance(value, np.generic) else value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
