"""Parsers for model output. They never raise: they return a usable result or say what failed.

Manager output: Mem0-style JSON (also inside code fences, with trailing text, single-quoted,
without `old_memory`, NONE or NOOP, ids as int or str) or the compact form `UPDATE 2: text`.
The parser reads the form only; whether the operation fits the shown memories and the limits
is decided by `memgym.actions.validate_decision`. Output longer than MAX_OUTPUT_CHARS or
nesting brackets deeper than MAX_DEPTH is refused before any JSON parsing.
Answer output: the text after the last `**Answer:**`, and the memory ids listed before it.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from typing import Any

from memgym.agents.base import Answer, ManagerDecision
from memgym.agents.prompts import check_prompt_style
from memgym.data.jsonstream import json_depth_ok
from memgym.data.schema import Fact
from memgym.memory.operations import Op
from memgym.textsafe import parse_index

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S | re.I)
_COMPACT = re.compile(
    r"^\s*(ADD|UPDATE|DELETE|NOOP|NONE)\b\s*(\[?[0-9]+\]?)?\s*:?\s*(.*)$", re.I | re.S
)
_ANSWER_MARK = re.compile(r"\*\*\s*answer\s*:?\s*\*\*\s*:?", re.I)
_IDS = re.compile(r"[0-9]+")
MAX_OUTPUT_CHARS = 100_000
MAX_DEPTH = 32


def json_objects(text: str) -> list[Any]:
    """Every JSON (or Python-literal) object found in `text`, fenced blocks first."""
    found: list[Any] = []
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    decoder = json.JSONDecoder()
    for source in sources:
        for start in [i for i, ch in enumerate(source) if ch in "{["][:20]:
            try:
                obj, _ = decoder.raw_decode(source[start:])
            except ValueError:
                obj = _literal(source[start:])
            if isinstance(obj, (dict, list)):
                found.append(obj)
                break
    return found


def _literal(text: str) -> Any:
    """A Python-literal (single-quoted) object at the start of text; never evaluates code."""
    depth, end = 0, None
    for i, ch in enumerate(text):
        depth += ch in "{["
        depth -= ch in "}]"
        if depth == 0:
            end = i + 1
            break
    if end is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. invalid escape sequences in model output
            return ast.literal_eval(text[:end])
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def parse_manager_output(text: str) -> ManagerDecision:
    """A decision from a model reply; on failure op is NOOP and `error` says why."""
    if not isinstance(text, str) or not text.strip():
        return ManagerDecision(
            Op.NOOP, error="empty output", raw=text if isinstance(text, str) else None
        )
    if len(text) > MAX_OUTPUT_CHARS:
        return ManagerDecision(
            Op.NOOP, error=f"output has {len(text)} characters, over {MAX_OUTPUT_CHARS}"
        )
    if not json_depth_ok(text, MAX_DEPTH):
        return ManagerDecision(
            Op.NOOP, error=f"output nests brackets deeper than {MAX_DEPTH} levels", raw=text
        )
    for obj in json_objects(text):
        items = obj.get("memory") if isinstance(obj, dict) else obj
        if isinstance(obj, dict) and items is None and "event" in obj:
            items = [obj]
        # A bare list counts only if it holds operation objects ("DELETE [0]" is compact form).
        if isinstance(items, list) and (
            isinstance(obj, dict) or any(isinstance(i, dict) for i in items)
        ):
            return _from_items(items, text)
    compact = _COMPACT.match(text.strip().splitlines()[0] if text.strip() else "")
    if compact:
        op_name, slot, rest = compact.groups()
        target = parse_index(slot) if slot else None
        if slot and target is None:
            return ManagerDecision(
                Op.NOOP, error=f"id of {len(slot)} characters is not a slot", raw=text
            )
        return _decision(Op.parse(op_name), target, rest.strip() or None, text)
    return ManagerDecision(Op.NOOP, error="no JSON operation or compact form found", raw=text)


def _from_items(items: list[Any], raw: str) -> ManagerDecision:
    for item in items:
        if not isinstance(item, dict):
            continue
        event = str(item.get("event", "NONE")).strip().upper()
        try:
            op = Op.parse(event)
        except KeyError:
            return ManagerDecision(Op.NOOP, error=f"unknown event {event!r}", raw=raw)
        if op == Op.NOOP:
            continue
        target = parse_index(item.get("id"))
        if op != Op.ADD and target is None:
            return ManagerDecision(Op.NOOP, error=f"{op.name} needs an integer id", raw=raw)
        text = item.get("text")
        return _decision(op, target, text if isinstance(text, str) else None, raw)
    return ManagerDecision(Op.NOOP, raw=raw)


def _decision(op: Op, target: int | None, text: str | None, raw: str) -> ManagerDecision:
    if op == Op.ADD:
        target = None
    return ManagerDecision(op, target, text.strip() if text else None, raw=raw)


def parse_answer_output(text: str) -> Answer:
    """The answer after the last `**Answer:**` (or the whole reply), and the ids listed before."""
    if not isinstance(text, str):
        return Answer("", error="output is not text")
    marks = list(_ANSWER_MARK.finditer(text))
    if not marks:
        return Answer(text.strip().splitlines()[0].strip() if text.strip() else "", raw=text)
    last = marks[-1]
    after = text[last.end() :].strip()
    answer = after.splitlines()[0].strip() if after else ""
    selected = tuple(
        dict.fromkeys(
            i for i in map(parse_index, _IDS.findall(text[: last.start()])) if i is not None
        )
    )
    return Answer(answer, selected=selected, raw=text)


def read_reply(text: str, fact: Fact | None, style: str = "json") -> ManagerDecision:
    """A model reply read in a prompt style. Compact: only the operation and id count, and a
    readable ADD or UPDATE stores the new fact as written (whatever words follow the id)."""
    check_prompt_style(style)
    decision = parse_manager_output(text)
    if style == "json" or fact is None or decision.error or decision.op not in (Op.ADD, Op.UPDATE):
        return decision
    return ManagerDecision(decision.op, decision.target, fact.text, raw=decision.raw)


def reply_text(decision: ManagerDecision, style: str = "json") -> str:
    """The reply that parses back to `decision`: Mem0-style JSON, or the compact line
    (`ADD`, `NONE`, `UPDATE 2`, `DELETE 2`; memory text left out, as the compact style stores
    the fact as written)."""
    if check_prompt_style(style) == "compact":
        slot = (
            "" if decision.op in (Op.ADD, Op.NOOP) or decision.target is None else decision.target
        )
        return f"{'NONE' if decision.op == Op.NOOP else decision.op.name} {slot}".strip()
    event = "NONE" if decision.op == Op.NOOP else decision.op.name
    item: dict[str, object] = {"id": "new" if decision.op == Op.ADD else str(decision.target)}
    item.update({"text": decision.text or "", "event": event})
    return json.dumps({"memory": [item]}, ensure_ascii=False)
