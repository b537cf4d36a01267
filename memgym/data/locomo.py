"""LoCoMo loader: the official `locomo10.json` list and the older one-file-per-conversation layout.

The official release is not clean, and none of its quirks is bad input: every record is kept
with what parses, and each repair or omission is a warning naming file, record and field.
Evidence may hold two ids in one string (`"D8:6; D9:17"`), space-separated ids, `"D:11:26"`,
leading zeros (`"D30:05"`), a bare `"D"`, duplicates, ids of turns that do not exist, or
nothing; answers may be integers; category-5 items carry `adversarial_answer` instead of
`answer`; date keys may exist without a session. A record is dropped only when it cannot be
used at all (no id, no conversation, no session), and that is a warning too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from memgym.data.categories import ADVERSARIAL, LOCOMO_CATEGORY_NAMES
from memgym.data.problems import ProblemLog, preview
from memgym.data.schema import Conversation, Fact, Question, Session, Turn
from memgym.data.times import parse_locomo_time
from memgym.textsafe import parse_index

# ASCII digits, at most 9 of them: `\d` also matches other scripts' digits, and a longer run
# would only be converted to an int to fail on Python's integer-string limit.
_SESSION_KEY = re.compile(r"^session_([0-9]{1,9})$")
_DIA_ID = re.compile(r"D\s*:?\s*([0-9]{1,9})\s*:\s*([0-9]{1,9})(?![0-9])")
_CANONICAL = re.compile(r"^D[1-9][0-9]*:[1-9][0-9]*$")
_FLAT_CONVERSATION_KEY = re.compile(r"^(speaker_[ab]|session_[0-9]+(_date_time)?)$")
_FLAT_OBSERVATION_KEY = re.compile(r"^session_[0-9]+_observation$")
DROP_RECORD = "record dropped"


def parse_dia_ids(value: str) -> list[str]:
    """Canonical dia_ids in a possibly malformed string ("D8:6; D9:17" -> ["D8:6", "D9:17"])."""
    return [f"D{int(s)}:{int(t)}" for s, t in _DIA_ID.findall(value)]


def flat_to_sample(raw: Mapping[str, Any], sample_id: str) -> dict[str, Any]:
    """Rebuild the locomo10 sample layout from the older flat per-conversation file."""
    if "conversation" in raw:  # a locomo10-style sample saved on its own
        return {"sample_id": sample_id, **raw}
    return {
        "sample_id": sample_id,
        "conversation": {k: v for k, v in raw.items() if _FLAT_CONVERSATION_KEY.match(k)},
        "qa": raw.get("qa", []),
        "observation": {k: v for k, v in raw.items() if _FLAT_OBSERVATION_KEY.match(k)},
    }


def parse_sample(raw: Any, record: str, log: ProblemLog) -> Conversation | None:
    """One LoCoMo sample -> Conversation, or None (with a warning) when nothing is usable."""
    if log.check_type(raw, (dict,), record, "<root>", DROP_RECORD) is None:
        return None
    sample_id = log.require(raw, "sample_id", (str,), record, "sample_id", DROP_RECORD)
    conv = log.require(raw, "conversation", (dict,), record, "conversation", DROP_RECORD)
    if sample_id is None or conv is None:
        return None
    record = f"{record} ({sample_id})"
    speakers = tuple(
        s
        for key in ("speaker_a", "speaker_b")
        if (s := log.require(conv, key, (str,), record, f"conversation.{key}", DROP_RECORD))
        is not None
    )
    if len(speakers) < 2:
        return None
    sessions = _parse_sessions(conv, record, log)
    if not sessions:
        log.add(record, "conversation", f"no session_N turn lists; {DROP_RECORD}")
        return None
    turn_ids = {t.id for s in sessions for t in s.turns}
    qa = raw.get("qa", [])
    if log.check_type(qa, (list,), record, "qa", "no questions kept") is None:
        qa = []
    last = sessions[-1]
    questions = [
        q
        for i, item in enumerate(qa)
        if (q := _parse_question(item, i, sample_id, last, turn_ids, record, log)) is not None
    ]
    facts: list[Fact] = []
    observation = raw.get("observation", {})
    if log.check_type(observation, (dict,), record, "observation", "no facts kept") is not None:
        facts = _parse_observation(observation, sessions, sample_id, record, log)
    return Conversation(
        id=sample_id,
        speakers=speakers,
        sessions=tuple(sessions),
        questions=tuple(questions),
        facts=tuple(facts),
    )


def _parse_sessions(conv: Mapping[str, Any], record: str, log: ProblemLog) -> list[Session]:
    numbers = sorted(
        int(m.group(1))
        for key, value in conv.items()
        if (m := _SESSION_KEY.match(key)) and isinstance(value, list)
    )
    sessions: list[Session] = []
    seen: set[str] = set()
    for n in numbers:
        key = f"session_{n}"
        field = f"conversation.{key}_date_time"
        time_raw = log.require(conv, f"{key}_date_time", (str,), record, field, "no session time")
        time = None
        if time_raw is not None:
            try:
                time = parse_locomo_time(time_raw)
            except ValueError:
                log.add(record, field, f"unparseable time {preview(time_raw)}; no session time")
        turns = []
        for i, item in enumerate(conv[key]):
            turn = _parse_turn(item, key, i, record, log)
            if turn is None:
                continue
            if turn.id in seen:
                log.add(
                    record,
                    f"conversation.{key}[{i}].dia_id",
                    f"duplicate turn {turn.id}; turn dropped",
                )
                continue
            seen.add(turn.id)
            turns.append(turn)
        sessions.append(
            Session(id=key, index=len(sessions), time=time, time_raw=time_raw, turns=tuple(turns))
        )
    return sessions


def _parse_turn(item: Any, key: str, i: int, record: str, log: ProblemLog) -> Turn | None:
    field = f"conversation.{key}[{i}]"
    drop = "turn dropped"
    if log.check_type(item, (dict,), record, field, drop) is None:
        return None
    speaker = log.require(item, "speaker", (str,), record, f"{field}.speaker", drop)
    dia_id = log.require(item, "dia_id", (str,), record, f"{field}.dia_id", drop)
    text = log.require(item, "text", (str,), record, f"{field}.text", drop)
    if speaker is None or dia_id is None or text is None:
        return None
    ids = parse_dia_ids(dia_id)
    if len(ids) != 1:
        log.add(record, f"{field}.dia_id", f"malformed dia_id {preview(dia_id)}; {drop}")
        return None
    if not _CANONICAL.match(dia_id.strip()):
        log.add(
            record, f"{field}.dia_id", f"non-standard dia_id {preview(dia_id)}; read as {ids[0]}"
        )
    caption = item.get("blip_caption")
    return Turn(
        id=ids[0],
        session_id=key,
        index=i,
        speaker=speaker,
        text=text,
        image_caption=caption if isinstance(caption, str) else None,
    )


def _parse_question(
    item: Any,
    index: int,
    sample_id: str,
    last_session: Session,
    turn_ids: set[str],
    record: str,
    log: ProblemLog,
) -> Question | None:
    field = f"qa[{index}]"
    drop = "question dropped"
    if log.check_type(item, (dict,), record, field, drop) is None:
        return None
    text = log.require(item, "question", (str,), record, f"{field}.question", drop)
    category = _category(item, f"{field}.category", record, log)
    if text is None or category is None:
        return None
    answers: tuple[str, ...] = ()
    if "answer" in item:
        answer = log.check_type(item["answer"], (str, int, float), record, f"{field}.answer", drop)
        if answer is None:
            return None
        if not isinstance(answer, str):
            log.add(
                record,
                f"{field}.answer",
                f"{type(answer).__name__} answer {answer!r}; read as the string {str(answer)!r}",
            )
        answers = (str(answer),)
    elif category != ADVERSARIAL:
        log.add(
            record, f"{field}.answer", f"missing required key (only category 5 may omit it); {drop}"
        )
        return None
    adversarial = item.get("adversarial_answer")
    if adversarial is not None:
        adversarial = log.check_type(
            adversarial, (str, int), record, f"{field}.adversarial_answer", "ignored"
        )
    return Question(
        id=f"{sample_id}/q{index}",
        conversation_id=sample_id,
        text=text,
        answers=answers,
        category=category,
        category_name=LOCOMO_CATEGORY_NAMES[category],
        evidence_turn_ids=_parse_evidence(item, field, turn_ids, record, log),
        time=last_session.time,
        time_raw=last_session.time_raw,
        abstention=category == ADVERSARIAL,
        adversarial_answer=None if adversarial is None else str(adversarial),
    )


def _category(item: Mapping[str, Any], field: str, record: str, log: ProblemLog) -> int | None:
    value = item.get("category")
    if isinstance(value, str) and parse_index(value) is not None:
        log.add(record, field, f"category given as the string {value!r}; read as an integer")
        value = parse_index(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in LOCOMO_CATEGORY_NAMES:
        found = (
            "missing required key"
            if "category" not in item
            else f"unknown category {preview(value)}"
        )
        log.add(record, field, f"{found} (expected an integer 1-5); question dropped")
        return None
    return int(value)


def _parse_evidence(
    item: Mapping[str, Any], field: str, turn_ids: set[str], record: str, log: ProblemLog
) -> tuple[str, ...]:
    """The question's evidence turn ids: every id that parses and names a turn, once each."""
    field = f"{field}.evidence"
    raw = item.get("evidence")
    if raw is None:
        log.add(record, field, "missing; question kept without evidence")
        return ()
    if isinstance(raw, str):
        log.add(record, field, "expected a list, got str; read as one evidence string")
        raw = [raw]
    if log.check_type(raw, (list,), record, field, "question kept without evidence") is None:
        return ()
    kept: list[str] = []
    for j, ev in enumerate(raw):
        where = f"{field}[{j}]"
        if log.check_type(ev, (str,), record, where, "ignored") is None:
            continue
        parsed = parse_dia_ids(ev)
        if not parsed:
            log.add(record, where, f"unparseable evidence {preview(ev)}; ignored")
            continue
        if len(parsed) > 1 or not _CANONICAL.match(ev.strip()):
            log.add(
                record, where, f"non-standard evidence {preview(ev)}; read as {', '.join(parsed)}"
            )
        for dia_id in parsed:
            if dia_id in kept:
                log.add(record, where, f"duplicate evidence {dia_id}; kept once")
            elif dia_id not in turn_ids:
                log.add(
                    record, where, f"evidence {dia_id} names no turn of this conversation; ignored"
                )
            else:
                kept.append(dia_id)
    if not kept:
        log.add(record, field, "no usable evidence; question kept, linked to no turn")
    return tuple(kept)


def _parse_observation(
    observation: Mapping[str, Any],
    sessions: Sequence[Session],
    sample_id: str,
    record: str,
    log: ProblemLog,
) -> list[Fact]:
    by_key = {s.id: s for s in sessions}
    turn_pos = {t.id: p for p, t in enumerate(t for s in sessions for t in s.turns)}
    located: list[tuple[int, int, Fact]] = []
    for key, per_speaker in observation.items():
        session_key = key.removesuffix("_observation")
        field = f"observation.{key}"
        session = by_key.get(session_key)
        if session is None:
            log.add(record, field, f"observation for {session_key}, which has no turns; ignored")
            continue
        if log.check_type(per_speaker, (dict,), record, field, "ignored") is None:
            continue
        end = max((turn_pos[t.id] for t in session.turns), default=len(turn_pos))
        for speaker, items in per_speaker.items():
            if log.check_type(items, (list,), record, f"{field}.{speaker}", "ignored") is None:
                continue
            for i, pair in enumerate(items):
                fact = _parse_fact(
                    pair, f"{field}.{speaker}[{i}]", speaker, session, turn_pos, record, log
                )
                if fact is not None:
                    # Facts sit where their first source turn sits (or at their session's end).
                    first = min(
                        (turn_pos[d] for d in fact.source_turn_ids if d in turn_pos), default=end
                    )
                    located.append((session.index, first, fact))
    ordered = [f for _, _, f in sorted(located, key=lambda x: (x[0], x[1]))]
    return [f.model_copy(update={"id": f"{sample_id}/f{i}"}) for i, f in enumerate(ordered)]


def _parse_fact(
    pair: Any,
    field: str,
    speaker: str,
    session: Session,
    turn_pos: Mapping[str, int],
    record: str,
    log: ProblemLog,
) -> Fact | None:
    if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
        log.add(record, field, "expected [fact text, dia_id]; fact dropped")
        return None
    refs = pair[1] if isinstance(pair[1], list) else [pair[1]]
    if not all(isinstance(r, str) for r in refs):
        log.add(record, field, "dia_id must be a string or a list of strings; fact dropped")
        return None
    source = list(dict.fromkeys(d for r in refs for d in parse_dia_ids(r)))
    if not source:
        log.add(record, field, f"unparseable dia_id {preview(pair[1])}; fact dropped")
        return None
    dangling = [d for d in source if d not in turn_pos]
    if dangling:
        log.add(
            record, field, f"dia_id {', '.join(dangling)} names no turn; fact kept in {session.id}"
        )
    return Fact(
        id="",
        text=pair[0],
        speaker=speaker,
        session_id=session.id,
        time=session.time,
        time_raw=session.time_raw,
        source_turn_ids=tuple(source),
    )


def sample_id_from_filename(path: Path) -> str:
    """Older layout: `26.json` holds conversation `conv-26`."""
    return f"conv-{path.stem}" if path.stem.isdigit() else path.stem
