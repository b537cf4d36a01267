"""LongMemEval loader: one conversation (the haystack sessions) and one question per instance.

Files are read as a stream (ijson) so that the 2.7 GB `_m` file is never held twice in memory.
`has_answer` turn flags become question evidence and never appear on a Turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson

from memgym.data.categories import LONGMEMEVAL_TYPES
from memgym.data.problems import ProblemLog
from memgym.data.schema import Conversation, Question, Session, Turn
from memgym.data.times import parse_longmemeval_time

SPEAKERS = ("user", "assistant")


def iter_instances(stream: IO[bytes], log: ProblemLog) -> Iterator[Conversation]:
    """Yield one Conversation per well-formed instance; problems (and truncation) go to `log`."""
    index = -1
    try:
        for index, raw in enumerate(ijson.items(stream, "item", use_float=True)):
            conversation = parse_instance(raw, str(index), log)
            if conversation is not None:
                yield conversation
    except ijson.JSONError as exc:
        log.add(str(index + 1), None, f"invalid JSON after record {index}: {exc}")


def parse_instance(raw: Any, record: str, log: ProblemLog) -> Conversation | None:
    """One LongMemEval instance -> Conversation, or None with problems recorded."""
    if log.check_type(raw, (dict,), record, "<root>") is None:
        return None
    n_before = len(log.problems)
    qid = log.require(raw, "question_id", (str,), record, "question_id")
    if qid is not None:
        record = f"{record} ({qid})"
    qtype = log.require(raw, "question_type", (str,), record, "question_type")
    if qtype is not None and qtype not in LONGMEMEVAL_TYPES:
        log.add(record, "question_type", f"unknown question type {qtype!r}")
    text = log.require(raw, "question", (str,), record, "question")
    answer = log.require(raw, "answer", (str, int, float), record, "answer")
    qdate = log.require(raw, "question_date", (str,), record, "question_date")
    dates = log.require(raw, "haystack_dates", (list,), record, "haystack_dates")
    sids = log.require(raw, "haystack_session_ids", (list,), record, "haystack_session_ids")
    hay = log.require(raw, "haystack_sessions", (list,), record, "haystack_sessions")
    answer_sids = raw.get("answer_session_ids", [])
    log.check_type(answer_sids, (list,), record, "answer_session_ids")
    if (
        dates is not None
        and sids is not None
        and hay is not None
        and not (len(dates) == len(sids) == len(hay))
    ):
        log.add(
            record,
            "haystack_sessions",
            f"length {len(hay)} differs from haystack_dates ({len(dates)}) "
            f"or haystack_session_ids ({len(sids)})",
        )
    if len(log.problems) > n_before or qid is None:
        return None
    assert qtype is not None and text is not None and qdate is not None
    assert dates is not None and sids is not None and hay is not None
    qtime = _time(qdate, record, "question_date", log)
    sessions: list[Session] = []
    evidence: list[str] = []
    seen: dict[str, int] = {}
    for k, (date, sid, turns_raw) in enumerate(zip(dates, sids, hay, strict=True)):
        field = f"haystack_sessions[{k}]"
        if log.check_type(sid, (str,), record, f"haystack_session_ids[{k}]") is None:
            continue
        if log.check_type(turns_raw, (list,), record, field) is None:
            continue
        # Session ids repeat in a few haystacks; a suffix keeps turn ids unique.
        seen[sid] = seen.get(sid, 0) + 1
        session_id = sid if seen[sid] == 1 else f"{sid}#{seen[sid]}"
        turns = []
        for i, t in enumerate(turns_raw):
            tfield = f"{field}[{i}]"
            if log.check_type(t, (dict,), record, tfield) is None:
                continue
            role = log.require(t, "role", (str,), record, f"{tfield}.role")
            content = log.require(t, "content", (str,), record, f"{tfield}.content")
            if role is None or content is None:
                continue
            turn = Turn(
                id=f"{session_id}:{i}", session_id=session_id, index=i, speaker=role, text=content
            )
            if t.get("has_answer") is True:
                evidence.append(turn.id)
            turns.append(turn)
        date_raw = log.check_type(date, (str,), record, f"haystack_dates[{k}]")
        time = None if date_raw is None else _time(date_raw, record, f"haystack_dates[{k}]", log)
        sessions.append(
            Session(
                id=session_id, index=len(sessions), time=time, time_raw=date_raw, turns=tuple(turns)
            )
        )
    if len(log.problems) > n_before:
        return None
    question = Question(
        id=qid,
        conversation_id=qid,
        text=text,
        answers=(str(answer),),
        category=qtype,
        category_name=qtype,
        evidence_turn_ids=tuple(evidence),
        evidence_session_ids=tuple(str(s) for s in answer_sids),
        time=qtime,
        time_raw=qdate,
        abstention=qid.endswith("_abs"),
    )
    return Conversation(id=qid, speakers=SPEAKERS, sessions=tuple(sessions), questions=(question,))


def _time(raw: str, record: str, field: str, log: ProblemLog) -> Any:
    try:
        return parse_longmemeval_time(raw)
    except ValueError:
        log.add(record, field, f"unparseable time {raw!r}")
        return None
