"""MSC loaders: MemGPT's MSC-Self-Instruct (DMR) JSON lines and raw ParlAI MSC session files.

Only the dialogues become sessions. `personas` and `summary_speaker_*` state the answers
verbatim, so they are never read into a Conversation.

MSC gives relative times only. Sessions are placed on a synthetic clock: the last (current)
session at MSC_ANCHOR, each earlier one `time_back` before it (or, without `time_back`, the
accumulated `time_num`/`time_unit` gaps). The raw string is kept in `Session.time_raw`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any

from memgym.data.categories import MSC_CATEGORY
from memgym.data.jsonstream import MAX_DEPTH, json_depth_ok
from memgym.data.problems import ProblemLog, preview
from memgym.data.schema import Conversation, Question, Session, Turn
from memgym.data.times import parse_duration, unit_duration

MSC_ANCHOR = datetime(2023, 1, 1, 12, 0)
SPEAKERS = ("Speaker 1", "Speaker 2")
DROP = "record dropped"


def iter_lines(stream: IO[bytes], log: ProblemLog) -> Iterator[tuple[str, Any]]:
    """Yield (record label, parsed JSON) per non-empty line; bad lines go to `log`."""
    for n, line in enumerate(stream):
        if not line.strip():
            continue
        record = f"line {n + 1}"
        if not json_depth_ok(line.decode("utf-8", "replace")):
            log.add(record, None, f"JSON nests deeper than {MAX_DEPTH} levels; line dropped")
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            log.add(record, None, f"invalid JSON: {exc.msg} at column {exc.colno}; line dropped")
            continue
        except ValueError as exc:  # not UTF-8
            log.add(record, None, f"unreadable line ({preview(str(exc))}); line dropped")
            continue
        yield record, log.valid(raw, record)


def parse_self_instruct(raw: Any, index: int, record: str, log: ProblemLog) -> Conversation | None:
    """One MSC-Self-Instruct line -> Conversation with one question, or None with problems."""
    if log.check_type(raw, (dict,), record, "<root>", DROP) is None:
        return None
    conv_id = f"msc-{index}"
    qa = log.require(raw, "self_instruct", (dict,), record, "self_instruct", DROP)
    if qa is None:
        return None
    question_text = log.require(qa, "B", (str,), record, "self_instruct.B", DROP)
    answer = log.require(qa, "A", (str,), record, "self_instruct.A", DROP)
    if question_text is None or answer is None:
        return None
    sessions = _sessions(raw, record, log)
    if sessions is None:
        return None
    question = Question(
        id=f"{conv_id}/q0",
        conversation_id=conv_id,
        text=question_text,
        answers=(answer,),
        category=MSC_CATEGORY,
        category_name=MSC_CATEGORY,
        time=MSC_ANCHOR,
        time_raw=None,
    )
    return Conversation(
        id=conv_id, speakers=SPEAKERS, sessions=tuple(sessions), questions=(question,)
    )


def parse_raw_session(raw: Any, index: int, record: str, log: ProblemLog) -> Conversation | None:
    """One raw ParlAI MSC line -> Conversation without questions, or None with problems."""
    if log.check_type(raw, (dict,), record, "<root>", DROP) is None:
        return None
    meta = raw.get("metadata")
    conv_id = f"msc-raw-{index}"
    if isinstance(meta, dict) and "initial_data_id" in meta:
        conv_id = f"{meta['initial_data_id']}/{meta.get('session_id', index)}"
    sessions = _sessions(raw, record, log)
    if sessions is None:
        return None
    return Conversation(id=conv_id, speakers=SPEAKERS, sessions=tuple(sessions), questions=())


def _sessions(raw: dict[str, Any], record: str, log: ProblemLog) -> list[Session] | None:
    """The previous dialogs then the current one; None (record dropped) without `dialog`."""
    current = log.require(raw, "dialog", (list,), record, "dialog", DROP)
    if current is None:
        return None
    previous = raw.get("previous_dialogs", [])
    if log.check_type(previous, (list,), record, "previous_dialogs", "ignored") is None:
        previous = []
    dialogs: list[tuple[str, Any]] = [
        (f"previous_dialogs[{k}]", p) for k, p in enumerate(previous) if isinstance(p, dict)
    ]
    for k, p in enumerate(previous):
        if not isinstance(p, dict):
            log.add(
                record,
                f"previous_dialogs[{k}]",
                f"expected an object, got {type(p).__name__}; session dropped",
            )
    times = _session_times([p for _, p in dialogs], record, log)
    sessions: list[Session] = []
    for n, ((field, p), (time, time_raw)) in enumerate(zip(dialogs, times, strict=True)):
        turns = log.require(p, "dialog", (list,), record, f"{field}.dialog", "session left empty")
        sessions.append(_session(n, turns or [], time, time_raw, f"{field}.dialog", record, log))
    sessions.append(_session(len(dialogs), current, MSC_ANCHOR, None, "dialog", record, log))
    return sessions


def _session_times(
    previous: list[dict[str, Any]], record: str, log: ProblemLog
) -> list[tuple[datetime | None, str | None]]:
    times: list[tuple[datetime | None, str | None]] = []
    elapsed = timedelta(0)
    # Walk backwards from the current session so gaps accumulate when time_back is absent.
    for k in range(len(previous) - 1, -1, -1):
        p = previous[k]
        back = p.get("time_back")
        try:
            if isinstance(back, str):
                times.append((MSC_ANCHOR - parse_duration(back), back))
                continue
            if "time_num" in p and "time_unit" in p:
                elapsed += unit_duration(float(p["time_num"]), str(p["time_unit"]))
                times.append((MSC_ANCHOR - elapsed, f"{p['time_num']} {p['time_unit']}"))
                continue
        except (TypeError, ValueError, OverflowError) as exc:
            log.add(
                record,
                f"previous_dialogs[{k}]",
                f"unparseable session time ({preview(str(exc))}); no session time",
            )
        times.append((None, None))
    return times[::-1]


def _session(
    n: int,
    turns_raw: list[Any],
    time: datetime | None,
    time_raw: str | None,
    field: str,
    record: str,
    log: ProblemLog,
) -> Session:
    session_id = f"S{n + 1}"
    turns = []
    for i, t in enumerate(turns_raw):
        tfield = f"{field}[{i}]"
        if log.check_type(t, (dict,), record, tfield, "turn dropped") is None:
            continue
        text = log.require(t, "text", (str,), record, f"{tfield}.text", "turn dropped")
        if text is None:
            continue
        speaker = t.get("id") if t.get("id") in SPEAKERS else SPEAKERS[i % 2]
        turns.append(
            Turn(id=f"{session_id}:{i}", session_id=session_id, index=i, speaker=speaker, text=text)
        )
    return Session(id=session_id, index=n, time=time, time_raw=time_raw, turns=tuple(turns))
