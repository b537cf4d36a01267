"""Synthetic LongMemEval data: files in the real format, at any scale, deterministic by seed.

SYNTHETIC, for benchmarks and tests only: never shipped or reported as LongMemEval. Every
question id and session id starts with "synthetic-". Filler turns come from templates over a
fixed vocabulary; each question's evidence is planted in 1-3 user turns (the assistant's reply
for single-session-assistant) of 1-3 sessions, with words no filler turn uses, so a lexical
retriever can find it. memgym detects LongMemEval from the first record's keys and takes the
variant from the file name, so tests and benchmarks name their files `longmemeval_synthetic.json`
(variant "synthetic"; a name not starting with `longmemeval_` gives "custom").
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from memgym.data.categories import LONGMEMEVAL_TYPES

ID_PREFIX = "synthetic-"
ABSTENTION_EVERY = 16  # the last instance of every 16 is an abstention question
UNSORTED_EVERY = 8  # one instance in 8 lists its sessions out of date order, as real files do
MIN_SESSIONS = 3  # a multi-session question plants evidence in up to 3 sessions
MIN_TURNS = 2  # evidence is a user turn and the assistant's reply
SPEAKERS = ("user", "assistant")
# strftime's %a follows the C locale; a fixed table keeps the bytes the same everywhere.
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# Filler shares no topic word with the questions and evidence below, so that they stand out.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "name": (
        "Alice", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Hana", "Ivan",
        "Julia", "Kenji", "Leila", "Marco", "Nora", "Omar", "Paula", "Ravi",
    ),
    "city": (
        "Lisbon", "Denver", "Osaka", "Toronto", "Nairobi", "Seattle", "Krakow", "Austin",
        "Dublin", "Melbourne", "Porto", "Quito",
    ),
    "venue": ("cafe", "library", "park", "market", "museum", "harbour", "square", "station"),
    "hobby": ("chess", "gardening", "swimming", "painting", "yoga", "reading", "knitting"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "month": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "day": tuple(str(d) for d in range(1, 29)),
    "number": tuple(str(n) for n in range(5, 95, 5)),
}  # fmt: skip
USER_FILLER = (
    "I met {name} at the {venue} in {city} on {weekday}.",
    "{name} and I spent {number} minutes talking about {hobby}.",
    "On {month} {day} we are driving to {city} to see {name}.",
    "I have been practising {hobby} for {number} weeks now.",
    "Do you think {hobby} is better in the morning or in the evening?",
    "My friend {name} says {city} is lovely in {month}.",
    "Last {weekday} {name} showed me photos from {city}.",
    "The weather in {city} was strange this {month}.",
    "I still owe {name} {number} dollars from our trip to {city}.",
    "{name} wants to try {hobby} with me next {weekday}.",
)
ASSISTANT_FILLER = (
    "That sounds like a good plan for {weekday}.",
    "Many people find {hobby} relaxing after a long day.",
    "{city} is often busy in {month}, so it helps to book early.",
    "Try setting aside {number} minutes for it each day.",
    "It is nice that {name} could join you.",
    "A short walk to the {venue} could be fun as well.",
    "Keeping a short journal about {hobby} can help you notice progress.",
    "It might be worth asking {name} what they think.",
    "If you travel to {city}, the {venue} there is worth a visit.",
    "Going on a {weekday} usually means fewer crowds.",
)


class Topic(NamedTuple):
    """What one question asks about; `absent` replaces `subject` in its abstention version."""

    subject: str
    absent: str
    question: str
    templates: tuple[str, ...]
    values: tuple[str, ...]


class Plan(NamedTuple):
    """A question with its evidence: session slot -> (user text, assistant text)."""

    question: str
    answer: str | int
    absent_question: str
    absent: str
    evidence: dict[int, tuple[str, str]]
    evidence_role: str


USER_FACTS = (
    Topic(
        "dog", "cat", "What breed is my {subject}?",
        ("My {subject} is a {value} and she needs a long walk every morning.",),
        ("Border Collie", "Beagle", "Dachshund", "Whippet", "Corgi", "Dalmatian"),
    ),
    Topic(
        "sister", "cousin", "Where does my {subject} work?",
        ("My {subject} just started a new job at {value} downtown.",),
        ("Northwind Traders", "Acme Robotics", "Blue Harbor Bank", "Lumen Labs", "Orchard Media"),
    ),
    Topic(
        "car", "boat", "Which model is my {subject}?",
        ("I finally bought my own {subject}, a used {value} with low mileage.",),
        ("Honda Civic", "Subaru Outback", "Toyota Prius", "Mazda Miata", "Volvo V60"),
    ),
)  # fmt: skip
ASSISTANT_ADVICE = (
    Topic(
        "book about statistics", "book about astronomy", "Which {subject} did you recommend?",
        (
            "Can you recommend a {subject} for a beginner?",
            "I recommend the {subject} {value}; it explains the ideas without heavy maths.",
        ),
        ("Counting Made Clear", "The Honest Average", "Signals and Noise", "Odds in Practice"),
    ),
    Topic(
        "podcast about history", "podcast about science", "Which {subject} did you suggest?",
        (
            "Is there a {subject} you would suggest for my commute?",
            "A good {subject} is {value}; each episode covers one forgotten event.",
        ),
        ("Echoes of Empire", "Ten Minutes Past", "The Long Century", "Old Maps Radio"),
    ),
)  # fmt: skip
PREFERENCES = (
    Topic(
        "weekend activity", "holiday destination", "Can you suggest a {subject} for me?",
        ("Lately I have been really into {value}; it is the best part of my week.",),
        ("birdwatching", "pottery", "trail running", "kayaking", "rock climbing"),
    ),
    Topic(
        "dinner recipe", "cocktail", "Which {subject} would you suggest for me tonight?",
        ("I have been cooking a lot of {value} dishes since my trip last year.",),
        ("Thai", "Ethiopian", "Peruvian", "Korean", "Lebanese"),
    ),
)  # fmt: skip
UPDATES = (
    Topic(
        "gym", "tennis club", "Which {subject} do I go to now?",
        (
            "I signed up at {value}, the {subject} near my office.",
            "I switched to {value}; it is a nicer {subject} than my old one.",
        ),
        ("Iron Temple", "Peak Fitness", "Riverside Athletic", "Core Studio"),
    ),
    Topic(
        "pull-ups", "push-ups", "How many {subject} can I do in a row now?",
        ("I can do {value} {subject} in a row now.", "New record today: {value} {subject}!"),
        ("6", "8", "9", "11", "12", "14", "17", "21"),  # ascending: the newer value is a record
    ),
    Topic(
        "manager", "dentist", "What is the name of my {subject} now?",
        (
            "My {subject} is {value}, and we get along well.",
            "I have a new {subject} since the team reshuffle: {value}.",
        ),
        ("Priya Raman", "Tomasz Nowak", "Grace Okafor", "Diego Alvarez", "Ingrid Holm"),
    ),
)  # fmt: skip
COLLECTIONS = (
    Topic(
        "musical instruments", "bicycles", "How many {subject} do I own?",
        ("I bought a {value} this week, one more for my {subject} corner.",),
        ("acoustic guitar", "ukulele", "violin", "cello", "keyboard", "flute"),
    ),
    Topic(
        "houseplants", "aquariums", "How many {subject} do I have?",
        ("I brought home a {value} today to join my other {subject}.",),
        ("fern", "cactus", "orchid", "bonsai", "monstera"),
    ),
    Topic(
        "board games", "video games", "How many {subject} do I own?",
        ("We played {value} last night, the newest of my {subject}.",),
        ("Catan", "Azul", "Wingspan", "Carcassonne", "Patchwork"),
    ),
)  # fmt: skip
EVENTS = (
    "dentist appointment", "job interview", "piano recital", "eye exam",
    "flu shot", "car inspection", "marathon", "team offsite",
)  # fmt: skip
ACKNOWLEDGEMENT = "Thanks for telling me."
EVENT_STATEMENT = "I had my {value} today and it went better than expected."
TEMPORAL_QUESTION = "How many days passed between my {first} and my {second}?"


def generate_longmemeval(
    instances: int, sessions: int, turns: int, seed: int = 0, words_per_turn: int = 20
) -> Iterator[dict[str, Any]]:
    """Lazily yield `instances` synthetic LongMemEval records, each with `sessions` sessions of
    `turns` turns of about `words_per_turn` words; the same arguments give the same records."""
    _check(instances, sessions, turns, words_per_turn)
    return (_instance(index, sessions, turns, seed, words_per_turn) for index in range(instances))


def write_longmemeval(
    path: Path,
    instances: int,
    sessions: int,
    turns: int,
    seed: int = 0,
    words_per_turn: int = 20,
) -> int:
    """Stream generate_longmemeval's records to `path` as one JSON list; returns the bytes
    written. One record is in memory at a time, so any size of file costs little memory."""
    records = generate_longmemeval(instances, sessions, turns, seed, words_per_turn)
    written = 0
    with path.open("wb") as f:
        written += f.write(b"[")
        for index, record in enumerate(records):
            separator = "\n" if index == 0 else ",\n"
            written += f.write((separator + json.dumps(record, separators=(",", ":"))).encode())
        written += f.write(b"\n]\n")
    return written


def _check(instances: int, sessions: int, turns: int, words_per_turn: int) -> None:
    """Raise ValueError, before anything is generated, for sizes no record can have."""
    if instances < 0:
        raise ValueError(f"instances must be >= 0, got {instances}")
    if sessions < MIN_SESSIONS:
        raise ValueError(f"sessions must be >= {MIN_SESSIONS}, got {sessions}")
    if turns < MIN_TURNS:
        raise ValueError(f"turns must be >= {MIN_TURNS}, got {turns}")
    if words_per_turn < 1:
        raise ValueError(f"words_per_turn must be >= 1, got {words_per_turn}")


def _instance(index: int, sessions: int, turns: int, seed: int, words: int) -> dict[str, Any]:
    """Record `index` of the stream; its own RNG makes it independent of the records before."""
    # A str seed is hashed with SHA-512 by random, so it is stable across runs and platforms.
    rng = random.Random(f"memgym-synthetic:{seed}:{index}")
    qtype = LONGMEMEVAL_TYPES[index % len(LONGMEMEVAL_TYPES)]
    abstain = index % ABSTENTION_EVERY == ABSTENTION_EVERY - 1
    times = _session_times(rng, sessions)
    plan = BUILDERS[qtype](rng, times)
    session_ids = [f"{ID_PREFIX}{index:06d}-{k:04d}" for k in range(sessions)]
    haystack = [
        _session(rng, turns, words, plan.evidence.get(k), None if abstain else plan.evidence_role)
        for k in range(sessions)
    ]
    order = _listing_order(rng, sessions, unsorted=index % UNSORTED_EVERY == UNSORTED_EVERY // 2)
    question_time = times[-1] + timedelta(days=rng.randint(1, 14))
    return {
        "question_id": f"{ID_PREFIX}{index:06d}" + ("_abs" if abstain else ""),
        "question_type": qtype,
        "question": plan.absent_question if abstain else plan.question,
        "answer": _not_enough(plan.absent) if abstain else plan.answer,
        "question_date": _format_time(question_time),
        "haystack_dates": [_format_time(times[k]) for k in order],
        "haystack_session_ids": [session_ids[k] for k in order],
        "haystack_sessions": [haystack[k] for k in order],
        "answer_session_ids": [] if abstain else [session_ids[k] for k in sorted(plan.evidence)],
    }


def _session_times(rng: random.Random, sessions: int) -> list[datetime]:
    """One time per session on strictly later days, so day differences are never zero."""
    day = datetime(2023, 1, 1) + timedelta(days=rng.randrange(365))
    times = []
    for _ in range(sessions):
        day += timedelta(days=rng.randint(1, 3))
        times.append(day.replace(hour=rng.randrange(7, 23), minute=rng.randrange(60)))
    return times


def _format_time(time: datetime) -> str:
    """LongMemEval's "2023/05/30 (Tue) 23:40"."""
    return f"{time:%Y/%m/%d} ({WEEKDAY_ABBREVIATIONS[time.weekday()]}) {time:%H:%M}"


def _listing_order(rng: random.Random, sessions: int, unsorted: bool) -> list[int]:
    """Session positions in file order: by date, or with two sessions swapped."""
    order = list(range(sessions))
    if unsorted:
        i, j = rng.sample(order, 2)
        order[i], order[j] = order[j], order[i]
    return order


def _session(
    rng: random.Random,
    turns: int,
    words: int,
    evidence: tuple[str, str] | None,
    flagged_role: str | None,
) -> list[dict[str, Any]]:
    """`turns` alternating turns of filler, with `evidence` (if any) as one user turn and the
    reply to it; the turn of `flagged_role` gets has_answer."""
    session: list[dict[str, Any]] = [
        {"role": role, "content": _filler(rng, words, role)}
        for role in (SPEAKERS[i % 2] for i in range(turns))
    ]
    if evidence is not None:
        at = 2 * rng.randrange(turns // 2)
        for turn, text in zip(session[at : at + 2], evidence, strict=True):
            turn["content"] = _padded(rng, text, words, turn["role"])
            if turn["role"] == flagged_role:
                turn["has_answer"] = True
    return session


def _padded(rng: random.Random, text: str, words: int, role: str) -> str:
    """`text` followed by filler up to about `words` words."""
    missing = words - len(text.split())
    return f"{text} {_filler(rng, missing, role)}" if missing > 0 else text


def _filler(rng: random.Random, words: int, role: str) -> str:
    """Template sentences of `role` until at least `words` words."""
    templates = USER_FILLER if role == "user" else ASSISTANT_FILLER
    # A shuffled cycle never repeats a sentence back to back.
    order = rng.sample(templates, len(templates))
    sentences: list[str] = []
    count = 0
    while count < words:
        sentence = order[len(sentences) % len(order)].format_map(_Picks(rng))
        sentences.append(sentence)
        count += sentence.count(" ") + 1
    return " ".join(sentences)


class _Picks(dict[str, str]):
    """Template fields drawn from VOCABULARY as the template asks for them, so a template
    consumes only the draws it uses."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self.rng = rng

    def __missing__(self, key: str) -> str:
        value = self[key] = self.rng.choice(VOCABULARY[key])
        return value


def _not_enough(absent: str) -> str:
    """An abstention question's answer: the explanation, as in LongMemEval."""
    return f'The information provided is not enough: the conversation never mentions "{absent}".'


def _slots(rng: random.Random, sessions: int, count: int) -> list[int]:
    """`count` distinct session positions in date order."""
    return sorted(rng.sample(range(sessions), count))


def _single_fact(rng: random.Random, times: Sequence[datetime], topics: Sequence[Topic]) -> Plan:
    """A value stated once by the user; the answer is that value."""
    topic = rng.choice(topics)
    value = rng.choice(topic.values)
    (slot,) = _slots(rng, len(times), 1)
    statement = topic.templates[0].format(subject=topic.subject, value=value)
    return Plan(
        question=topic.question.format(subject=topic.subject),
        answer=value,
        absent_question=topic.question.format(subject=topic.absent),
        absent=topic.absent,
        evidence={slot: (statement, ACKNOWLEDGEMENT)},
        evidence_role="user",
    )


def _single_session_user(rng: random.Random, times: Sequence[datetime]) -> Plan:
    return _single_fact(rng, times, USER_FACTS)


def _single_session_preference(rng: random.Random, times: Sequence[datetime]) -> Plan:
    plan = _single_fact(rng, times, PREFERENCES)
    rubric = f"The user would prefer suggestions that build on their interest in {plan.answer}."
    return plan._replace(answer=rubric)


def _single_session_assistant(rng: random.Random, times: Sequence[datetime]) -> Plan:
    """The user asks for a recommendation; the assistant's reply holds the answer."""
    topic = rng.choice(ASSISTANT_ADVICE)
    value = rng.choice(topic.values)
    (slot,) = _slots(rng, len(times), 1)
    request, reply = (t.format(subject=topic.subject, value=value) for t in topic.templates)
    return Plan(
        question=topic.question.format(subject=topic.subject),
        answer=value,
        absent_question=topic.question.format(subject=topic.absent),
        absent=topic.absent,
        evidence={slot: (request, reply)},
        evidence_role="assistant",
    )


def _temporal_reasoning(rng: random.Random, times: Sequence[datetime]) -> Plan:
    """Two dated events; the answer is the number of days between their sessions."""
    first, second, absent = rng.sample(EVENTS, 3)
    early, late = _slots(rng, len(times), 2)
    days = (times[late].date() - times[early].date()).days
    return Plan(
        question=TEMPORAL_QUESTION.format(first=first, second=second),
        answer=f"{days} days",
        absent_question=TEMPORAL_QUESTION.format(first=first, second=absent),
        absent=absent,
        evidence={
            slot: (EVENT_STATEMENT.format(value=event), ACKNOWLEDGEMENT)
            for slot, event in ((early, first), (late, second))
        },
        evidence_role="user",
    )


def _knowledge_update(rng: random.Random, times: Sequence[datetime]) -> Plan:
    """An older value, then a newer one in a later session; the answer is the newer."""
    topic = rng.choice(UPDATES)
    old, new = (topic.values[i] for i in sorted(rng.sample(range(len(topic.values)), 2)))
    early, late = _slots(rng, len(times), 2)
    old_text, new_text = (
        template.format(subject=topic.subject, value=value)
        for template, value in zip(topic.templates, (old, new), strict=True)
    )
    return Plan(
        question=topic.question.format(subject=topic.subject),
        answer=new,
        absent_question=topic.question.format(subject=topic.absent),
        absent=topic.absent,
        evidence={
            early: (old_text, ACKNOWLEDGEMENT),
            late: (new_text, ACKNOWLEDGEMENT),
        },
        evidence_role="user",
    )


def _multi_session(rng: random.Random, times: Sequence[datetime]) -> Plan:
    """One item of a collection per session, in 2-3 sessions; the answer is their count."""
    topic = rng.choice(COLLECTIONS)
    slots = _slots(rng, len(times), rng.randint(2, 3))
    items = rng.sample(topic.values, len(slots))
    return Plan(
        question=topic.question.format(subject=topic.subject),
        answer=len(slots),
        absent_question=topic.question.format(subject=topic.absent),
        absent=topic.absent,
        evidence={
            slot: (
                topic.templates[0].format(subject=topic.subject, value=item),
                ACKNOWLEDGEMENT,
            )
            for slot, item in zip(slots, items, strict=True)
        },
        evidence_role="user",
    )


BUILDERS: dict[str, Callable[[random.Random, Sequence[datetime]], Plan]] = {
    "single-session-user": _single_session_user,
    "single-session-assistant": _single_session_assistant,
    "single-session-preference": _single_session_preference,
    "temporal-reasoning": _temporal_reasoning,
    "knowledge-update": _knowledge_update,
    "multi-session": _multi_session,
}
