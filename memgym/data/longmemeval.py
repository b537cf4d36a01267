"""LongMemEval loader: one conversation (the haystack sessions) and one question per instance.

Files are streamed (ijson through the depth guard), so the 2.7 GB `_m` file is never held
whole. Semantics follow the reference code: abstention questions are those whose id contains
`_abs`; answers may be numbers; sessions are put in date order (stable), each keeping its file
position in `Session.source_index`; turn-level evidence is the user turns flagged `has_answer`
(the reference retrieval evaluation indexes user turns only), and the flag never reaches a
Turn. A session id that repeats keeps its id, so `answer_session_ids` still names it; the
turns of each repeat get ids `<sid>@<file position>:<i>` to stay unique.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from memgym.data.categories import LONGMEMEVAL_TYPES
from memgym.data.jsonstream import iter_items
from memgym.data.problems import ProblemLog, preview
from memgym.data.schema import Conversation, Question, Session, Turn
from memgym.data.times import parse_longmemeval_time

SPEAKERS = ("user", "assistant")
DROP = "record dropped"


def iter_instances(stream: IO[bytes], log: ProblemLog) -> Iterator[Conversation]:
    """One Conversation per usable instance; record problems go to `log` as warnings."""
    for index, raw in enumerate(iter_items(stream)):
        conversation = parse_instance(log.valid(raw, str(index)), str(index), log)
        if conversation is not None:
            yield conversation


def parse_instance(raw: Any, record: str, log: ProblemLog) -> Conversation | None:
    """One LongMemEval instance -> Conversation, or None (with a warning) if it is unusable."""
    if log.check_type(raw, (dict,), record, "<root>", DROP) is None:
        return None
    qid = log.require(raw, "question_id", (str,), record, "question_id", DROP)
    if qid is None:
        return None
    record = f"{record} ({qid})"
    fields = {
        "question_type": (str,),
        "question": (str,),
        "answer": (str, int, float),
        "question_date": (str,),
        "haystack_dates": (list,),
        "haystack_session_ids": (list,),
        "haystack_sessions": (list,),
    }
    found = {key: log.require(raw, key, types, record, key, DROP) for key, types in fields.items()}
    if any(v is None for v in found.values()):
        return None
    values: dict[str, Any] = found
    qtype = values["question_type"]
    if qtype not in LONGMEMEVAL_TYPES:
        log.add(
            record,
            "question_type",
            f"unknown question type {preview(qtype)}; kept, judged with the default criterion",
        )
    dates, sids, hay = (
        values["haystack_dates"],
        values["haystack_session_ids"],
        values["haystack_sessions"],
    )
    if not len(dates) == len(sids) == len(hay):
        log.add(
            record,
            "haystack_sessions",
            f"length {len(hay)} differs from haystack_dates "
            f"({len(dates)}) or haystack_session_ids ({len(sids)}); {DROP}",
        )
        return None
    answer_sids = raw.get("answer_session_ids", [])
    if log.check_type(answer_sids, (list,), record, "answer_session_ids", "ignored") is None:
        answer_sids = []
    sessions, evidence = _sessions(dates, sids, hay, record, log)
    question = Question(
        id=qid,
        conversation_id=qid,
        text=values["question"],
        answers=(str(values["answer"]),),
        category=qtype,
        category_name=qtype,
        evidence_turn_ids=evidence,
        evidence_session_ids=tuple(str(s) for s in answer_sids),
        time=_time(values["question_date"], record, "question_date", log),
        time_raw=values["question_date"],
        abstention="_abs" in qid,
    )
    return Conversation(id=qid, speakers=SPEAKERS, sessions=sessions, questions=(question,))


def _sessions(
    dates: list[Any], sids: list[Any], hay: list[Any], record: str, log: ProblemLog
) -> tuple[tuple[Session, ...], tuple[str, ...]]:
    """Sessions in date order (stable) and the ids of the user turns flagged has_answer."""
    built: list[tuple[datetime | None, Session, list[str]]] = []
    first_position: dict[str, int] = {}
    for k, (date, sid, turns_raw) in enumerate(zip(dates, sids, hay, strict=True)):
        field = f"haystack_sessions[{k}]"
        if (
            log.check_type(sid, (str,), record, f"haystack_session_ids[{k}]", "session dropped")
            is None
        ):
            continue
        if log.check_type(turns_raw, (list,), record, field, "session dropped") is None:
            continue
        prefix = sid
        if sid in first_position:
            prefix = f"{sid}@{k}"
            log.add(
                record,
                f"haystack_session_ids[{k}]",
                f"session id {preview(sid)} repeats "
                f"position {first_position[sid]}; kept, its turn ids are {prefix}:<i>",
            )
        first_position.setdefault(sid, k)
        turns, flagged = _turns(turns_raw, sid, prefix, field, record, log)
        date_raw = log.check_type(date, (str,), record, f"haystack_dates[{k}]", "no session time")
        time = None if date_raw is None else _time(date_raw, record, f"haystack_dates[{k}]", log)
        session = Session(
            id=sid, index=0, time=time, time_raw=date_raw, turns=turns, source_index=k
        )
        built.append((time, session, flagged))
    if all(time is not None for time, _, _ in built):
        built.sort(key=lambda item: item[0])  # type: ignore[arg-type,return-value]
    elif built:
        log.add(record, "haystack_dates", "some dates do not parse; sessions kept in file order")
    sessions = tuple(s.model_copy(update={"index": i}) for i, (_, s, _) in enumerate(built))
    evidence = tuple(t for _, _, flagged in built for t in flagged)
    return sessions, evidence


def _turns(
    turns_raw: list[Any], sid: str, prefix: str, field: str, record: str, log: ProblemLog
) -> tuple[tuple[Turn, ...], list[str]]:
    turns: list[Turn] = []
    flagged: list[str] = []
    for i, t in enumerate(turns_raw):
        tfield = f"{field}[{i}]"
        if log.check_type(t, (dict,), record, tfield, "turn dropped") is None:
            continue
        role = log.require(t, "role", (str,), record, f"{tfield}.role", "turn dropped")
        content = log.require(t, "content", (str,), record, f"{tfield}.content", "turn dropped")
        if role is None or content is None:
            continue
        turn = Turn(id=f"{prefix}:{i}", session_id=sid, index=i, speaker=role, text=content)
        if t.get("has_answer") is True and role == "user":
            flagged.append(turn.id)
        turns.append(turn)
    return tuple(turns), flagged


def _time(raw: str, record: str, field: str, log: ProblemLog) -> datetime | None:
    try:
        return parse_longmemeval_time(raw)
    except ValueError:
        log.add(record, field, f"unparseable time {preview(raw)}; no time kept")
        return None
