"""LoCoMo loader: the official `locomo10.json` list and the older one-file-per-conversation layout.

Quirks handled (see the project's REFERENCE notes): date keys without a session, integer answers,
category-5 items without `answer`, malformed or empty evidence, list-valued dia_ids in facts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from memgym.data.categories import ADVERSARIAL, LOCOMO_CATEGORY_NAMES
from memgym.data.problems import ProblemLog
from memgym.data.schema import Conversation, Fact, Question, Session, Turn
from memgym.data.times import parse_locomo_time

_SESSION_KEY = re.compile(r"^session_(\d+)$")
_DIA_ID = re.compile(r"D:?\s*(\d+)\s*:\s*(\d+)")
_FLAT_CONVERSATION_KEY = re.compile(r"^(speaker_[ab]|session_\d+(_date_time)?)$")
_FLAT_OBSERVATION_KEY = re.compile(r"^session_\d+_observation$")


def parse_dia_ids(value: str) -> list[str]:
    """Canonical dia_ids in a possibly malformed string ("D8:6; D9:17" -> ["D8:6", "D9:17"])."""
    return [f"D{int(s)}:{int(t)}" for s, t in _DIA_ID.findall(value)]


def flat_to_sample(raw: Mapping[str, Any], sample_id: str) -> dict[str, Any]:
    """Rebuild the locomo10 sample layout from the older flat per-conversation file."""
    return {
        "sample_id": sample_id,
        "conversation": {k: v for k, v in raw.items() if _FLAT_CONVERSATION_KEY.match(k)},
        "qa": raw.get("qa", []),
        "observation": {k: v for k, v in raw.items() if _FLAT_OBSERVATION_KEY.match(k)},
    }


def parse_sample(raw: Any, record: str, log: ProblemLog) -> Conversation | None:
    """One LoCoMo sample -> Conversation, or None with problems recorded in `log`."""
    if log.check_type(raw, (dict,), record, "<root>") is None:
        return None
    n_before = len(log.problems)
    sample_id = log.require(raw, "sample_id", (str,), record, "sample_id")
    conv = log.require(raw, "conversation", (dict,), record, "conversation")
    qa = log.require(raw, "qa", (list,), record, "qa")
    if sample_id is None or conv is None or qa is None:
        return None
    record = f"{record} ({sample_id})"
    speakers = tuple(
        s
        for key in ("speaker_a", "speaker_b")
        if (s := log.require(conv, key, (str,), record, f"conversation.{key}")) is not None
    )
    sessions = _parse_sessions(conv, record, log)
    last_time = sessions[-1].time if sessions else None
    last_raw = sessions[-1].time_raw if sessions else None
    questions = [
        q
        for i, item in enumerate(qa)
        if (q := _parse_question(item, i, sample_id, last_time, last_raw, record, log)) is not None
    ]
    observation = raw.get("observation", {})
    facts: list[Fact] = []
    if log.check_type(observation, (dict,), record, "observation") is not None:
        facts = _parse_observation(observation, sessions, sample_id, record, log)
    if len(log.problems) > n_before:
        return None
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
    sessions = []
    for position, n in enumerate(numbers):
        key = f"session_{n}"
        time_raw = log.require(
            conv, f"{key}_date_time", (str,), record, f"conversation.{key}_date_time"
        )
        time = None
        if time_raw is not None:
            try:
                time = parse_locomo_time(time_raw)
            except ValueError:
                log.add(record, f"conversation.{key}_date_time", f"unparseable time {time_raw!r}")
        turns = []
        for i, item in enumerate(conv[key]):
            field = f"conversation.{key}[{i}]"
            if log.check_type(item, (dict,), record, field) is None:
                continue
            speaker = log.require(item, "speaker", (str,), record, f"{field}.speaker")
            dia_id = log.require(item, "dia_id", (str,), record, f"{field}.dia_id")
            text = log.require(item, "text", (str,), record, f"{field}.text")
            caption = item.get("blip_caption")
            if speaker is None or dia_id is None or text is None:
                continue
            ids = parse_dia_ids(dia_id)
            if len(ids) != 1:
                log.add(record, f"{field}.dia_id", f"malformed dia_id {dia_id!r}")
                continue
            turns.append(
                Turn(
                    id=ids[0],
                    session_id=key,
                    index=i,
                    speaker=speaker,
                    text=text,
                    image_caption=caption if isinstance(caption, str) else None,
                )
            )
        sessions.append(
            Session(id=key, index=position, time=time, time_raw=time_raw, turns=tuple(turns))
        )
    if not sessions:
        log.add(record, "conversation", "no session_N turn lists")
    return sessions


def _parse_question(
    item: Any,
    index: int,
    sample_id: str,
    time: datetime | None,
    time_raw: str | None,
    record: str,
    log: ProblemLog,
) -> Question | None:
    field = f"qa[{index}]"
    if log.check_type(item, (dict,), record, field) is None:
        return None
    text = log.require(item, "question", (str,), record, f"{field}.question")
    category = log.require(item, "category", (int,), record, f"{field}.category")
    evidence = log.require(item, "evidence", (list,), record, f"{field}.evidence")
    if category is not None and category not in LOCOMO_CATEGORY_NAMES:
        log.add(record, f"{field}.category", f"unknown category {category!r} (expected 1-5)")
        category = None
    answers: tuple[str, ...] = ()
    if "answer" in item:
        answer = log.check_type(item["answer"], (str, int, float), record, f"{field}.answer")
        answers = () if answer is None else (str(answer),)
    elif category is not None and category != ADVERSARIAL:
        log.add(record, f"{field}.answer", "missing required key (only category 5 may omit it)")
    adversarial = item.get("adversarial_answer")
    if adversarial is not None:
        adversarial = log.check_type(adversarial, (str, int), record, f"{field}.adversarial_answer")
    evidence_ids: list[str] = []
    for j, ev in enumerate(evidence or []):
        if log.check_type(ev, (str,), record, f"{field}.evidence[{j}]") is None:
            continue
        parsed = parse_dia_ids(ev)
        if not parsed:
            log.add(record, f"{field}.evidence[{j}]", f"unparseable evidence {ev!r}")
        evidence_ids.extend(parsed)
    if text is None or category is None or evidence is None:
        return None
    return Question(
        id=f"{sample_id}/q{index}",
        conversation_id=sample_id,
        text=text,
        answers=answers,
        category=category,
        category_name=LOCOMO_CATEGORY_NAMES[category],
        evidence_turn_ids=tuple(dict.fromkeys(evidence_ids)),
        time=time,
        time_raw=time_raw,
        abstention=category == ADVERSARIAL,
        adversarial_answer=None if adversarial is None else str(adversarial),
    )


def _parse_observation(
    observation: Mapping[str, Any],
    sessions: list[Session],
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
            log.add(record, field, f"observation for {session_key}, which has no turns")
            continue
        if log.check_type(per_speaker, (dict,), record, field) is None:
            continue
        for speaker, items in per_speaker.items():
            if log.check_type(items, (list,), record, f"{field}.{speaker}") is None:
                continue
            for i, pair in enumerate(items):
                ffield = f"{field}.{speaker}[{i}]"
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    log.add(record, ffield, "expected [fact text, dia_id]")
                    continue
                refs = pair[1] if isinstance(pair[1], list) else [pair[1]]
                if not all(isinstance(r, str) for r in refs):
                    log.add(record, ffield, "dia_id must be a string or a list of strings")
                    continue
                source = list(dict.fromkeys(d for r in refs for d in parse_dia_ids(r)))
                if not source:
                    log.add(record, ffield, f"unparseable dia_id {pair[1]!r}")
                    continue
                # Order facts by where their first source turn sits in the conversation.
                first = min(turn_pos.get(d, len(turn_pos)) for d in source)
                fact = Fact(
                    id="",
                    text=pair[0],
                    speaker=speaker,
                    session_id=session.id,
                    time=session.time,
                    time_raw=session.time_raw,
                    source_turn_ids=tuple(source),
                )
                located.append((session.index, first, fact))
    ordered = [f for _, _, f in sorted(located, key=lambda x: (x[0], x[1]))]
    return [f.model_copy(update={"id": f"{sample_id}/f{i}"}) for i, f in enumerate(ordered)]


def sample_id_from_filename(path: Path) -> str:
    """Older layout: `26.json` holds conversation `conv-26`."""
    return f"conv-{path.stem}" if path.stem.isdigit() else path.stem
