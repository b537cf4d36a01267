"""What an episode walks: a whole conversation, one of Memory-R1's training tuples, or a
segment of K consecutive facts.

Training tuples are built per question, as Memory-R1 describes them. For each question, t is
the turn at which its evidence is complete (its last evidence turn). Questions completing at
the same t share a tuple. The tuple's bank is built by a reference manager from the facts of
the `window` turns before t, and always from the facts of every evidence turn of its questions
that precedes t; the policy then handles the facts of turn t, and the reward is the score on
the tuple's questions. A turn without a published fact (LoCoMo's observations skip some) is
its own fact, so every tuple has at least one decision and every evidence turn reaches the
bank. Questions without usable evidence are listed as skipped, with the reason.

Segments (for policies that cannot hold a whole conversation, e.g. an LLM): the conversation's
facts cut into runs of `length`; a segment's bank is built by a reference manager from every
fact before it (under the same capacity), the policy handles the segment's facts, and the
questions whose evidence has arrived by the segment's last fact score it (those completed
earlier count from its first step: an eviction can still lose them). Segments before the first
completed question score nothing and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from memgym.data.schema import Conversation, Fact, Question, Turn
from memgym.facts import FactSource, evidence_step, fact_stream, turn_fact

# Memory-R1's Algorithm 1 builds the bank from the 50 preceding turns; its text says 24.
DEFAULT_WINDOW = 50
# Facts per segment: what a small LLM's rollout holds.
DEFAULT_SEGMENT = 16


@dataclass(frozen=True)
class Episode:
    """One episode: the policy's facts, the questions that score it, and (tuples) the facts
    the reference manager stores first."""

    conversation: Conversation
    facts: tuple[Fact, ...]
    questions: tuple[Question, ...]
    arrival: tuple[int, ...]  # per question: index of the fact after which it counts
    prefix: tuple[Fact, ...] = ()
    window_turn: str | None = None  # the turn a tuple or segment is anchored at
    offset: int = 0  # index of the first fact in the conversation's fact stream
    stream_length: int = 0  # facts in the whole stream (0: this episode's own)

    @property
    def position(self) -> tuple[int, int]:
        """(index of the first fact, facts in the conversation): where the episode sits."""
        return self.offset, self.stream_length or len(self.facts)


@dataclass(frozen=True)
class Skipped:
    question_id: str
    reason: str


@dataclass(frozen=True)
class EpisodePlan:
    """Every episode of a split, and the questions no tuple can hold."""

    episodes: tuple[Episode, ...]
    skipped: tuple[Skipped, ...] = field(default=())
    streams: dict[str, tuple[Fact, ...]] = field(default_factory=dict)  # by conversation id

    def select(self, options: dict[str, Any], rng: np.random.Generator) -> int:
        """The episode `reset` starts: `options["episode_index"]` (or the older
        `window_index`), `options["conversation_id"]` (conversation episodes), or a draw."""
        n = len(self.episodes)
        if "conversation_id" in options:
            wanted = options["conversation_id"]
            for i, episode in enumerate(self.episodes):
                if episode.window_turn is None and episode.conversation.id == wanted:
                    return i
            raise ValueError(f"no conversation episode {wanted!r}")
        if "episode_index" in options or "window_index" in options:
            index = int(options.get("episode_index", options.get("window_index", -1)))
            if not 0 <= index < n:
                raise ValueError(f"episode_index must be in 0..{n - 1}")
            return index
        return int(rng.integers(n))

    def describe(self) -> dict[str, Any]:
        """Counts for `describe()` and `memgym data stats --episodes`."""
        in_episodes = sum(len(e.questions) for e in self.episodes)
        return {
            "episodes": len(self.episodes),
            "questions_in_episodes": in_episodes,
            "questions_skipped": len(self.skipped),
            "skipped": [{"question_id": s.question_id, "reason": s.reason} for s in self.skipped],
            "facts_per_episode": (
                sum(len(e.facts) for e in self.episodes) / len(self.episodes)
                if self.episodes
                else 0.0
            ),
            "evidence_outside_bank": sum(_evidence_outside(e) for e in self.episodes),
        }


def plan_episodes(
    conversations: Sequence[Conversation],
    fact_source: FactSource,
    kind: str = "conversation",
    window: int = DEFAULT_WINDOW,
    segment_length: int = DEFAULT_SEGMENT,
) -> EpisodePlan:
    """The episodes of `kind` ("conversation", "window" or "segment") over these
    conversations."""
    if window < 0:
        raise ValueError("window must be >= 0")
    if segment_length < 1:
        raise ValueError("segment_length must be >= 1")
    facts = {c.id: tuple(fact_stream(c, fact_source)) for c in conversations}
    if kind == "window":
        plan = window_tuples(conversations, facts, window)
    elif kind == "conversation":
        plan = conversation_episodes(conversations, facts)
    elif kind == "segment":
        plan = segments(conversations, facts, segment_length)
    else:
        raise ValueError(f"unknown episode kind {kind!r}; expected conversation, window or segment")
    return replace(plan, streams=facts)


def conversation_episodes(
    conversations: Sequence[Conversation], facts: dict[str, tuple[Fact, ...]]
) -> EpisodePlan:
    """One episode per conversation; a question counts once its evidence has arrived (or at the
    last step when none of its evidence is in the fact stream)."""
    episodes = []
    for conversation in conversations:
        stream = facts[conversation.id]
        last = max(len(stream) - 1, 0)
        arrival = tuple(
            last if (step := evidence_step(list(stream), q.evidence_turn_ids)) is None else step
            for q in conversation.questions
        )
        episodes.append(Episode(conversation, stream, conversation.questions, arrival))
    return EpisodePlan(tuple(episodes))


def segments(
    conversations: Sequence[Conversation], facts: dict[str, tuple[Fact, ...]], length: int
) -> EpisodePlan:
    """Runs of `length` consecutive facts (see the module docstring), in conversation order."""
    episodes = []
    for conversation in conversations:
        stream = facts[conversation.id]
        steps = [evidence_step(list(stream), q.evidence_turn_ids) for q in conversation.questions]
        for start in range(0, len(stream), length):
            chunk = stream[start : start + length]
            end = start + len(chunk) - 1
            scored = [
                (q, max(step - start, 0))
                for q, step in zip(conversation.questions, steps, strict=True)
                if step is not None and step <= end
            ]
            if not scored:
                continue
            episodes.append(
                Episode(
                    conversation,
                    chunk,
                    tuple(q for q, _ in scored),
                    tuple(a for _, a in scored),
                    prefix=stream[:start],
                    window_turn=fact_turn(conversation, chunk[0]),
                    offset=start,
                    stream_length=len(stream),
                )
            )
    return EpisodePlan(tuple(episodes))


def window_tuples(
    conversations: Sequence[Conversation],
    facts: dict[str, tuple[Fact, ...]],
    window: int = DEFAULT_WINDOW,
) -> EpisodePlan:
    """Memory-R1's training tuples (see the module docstring), in conversation order."""
    episodes: list[Episode] = []
    skipped: list[Skipped] = []
    for conversation in conversations:
        built, missed = _conversation_tuples(conversation, facts[conversation.id], window)
        episodes.extend(built)
        skipped.extend(missed)
    return EpisodePlan(tuple(episodes), tuple(skipped))


def _conversation_tuples(
    conversation: Conversation, stream: tuple[Fact, ...], window: int
) -> tuple[list[Episode], list[Skipped]]:
    position = conversation.turn_position
    turns = list(conversation.turns())
    by_turn: dict[str, list[Fact]] = {}
    for fact in stream:
        by_turn.setdefault(fact_turn(conversation, fact), []).append(fact)
    groups: dict[str, list[Question]] = {}
    skipped = []
    for question in conversation.questions:
        linked = [t for t in question.evidence_turn_ids if t in position]
        if not linked:
            skipped.append(Skipped(question.id, "no evidence turn in the conversation"))
            continue
        groups.setdefault(max(linked, key=position.__getitem__), []).append(question)
    episodes = []
    for turn_id in sorted(groups, key=position.__getitem__):
        questions = groups[turn_id]
        at = position[turn_id]
        keep = set(range(max(0, at - window), at))
        keep.update(position[t] for q in questions for t in q.evidence_turn_ids if position[t] < at)
        prefix = [f for p in sorted(keep) for f in _facts_of(turns[p], by_turn, conversation)]
        own = tuple(_facts_of(turns[at], by_turn, conversation))
        arrival = tuple(len(own) - 1 for _ in questions)
        episodes.append(
            Episode(conversation, own, tuple(questions), arrival, tuple(prefix), turn_id)
        )
    return episodes, skipped


def fact_turn(conversation: Conversation, fact: Fact) -> str:
    """The turn a fact belongs to: its last source turn in the conversation (a fact whose
    sources name no turn belongs to the last turn of its session)."""
    position = conversation.turn_position
    known = [t for t in fact.source_turn_ids if t in position]
    if known:
        return max(known, key=position.__getitem__)
    session = next((s for s in conversation.sessions if s.id == fact.session_id), None)
    return session.turns[-1].id if session is not None and session.turns else ""


def _facts_of(turn: Turn, by_turn: dict[str, list[Fact]], conversation: Conversation) -> list[Fact]:
    """The turn's facts, or the turn itself as a fact when no fact was published for it."""
    if turn.id in by_turn:
        return by_turn[turn.id]
    session = next(s for s in conversation.sessions if s.id == turn.session_id)
    return [turn_fact(conversation, session, turn)]


def _evidence_outside(episode: Episode) -> int:
    """Questions of a tuple with an evidence turn that neither its prefix nor its facts hold."""
    if episode.window_turn is None:
        return 0
    held = {t for f in (*episode.prefix, *episode.facts) for t in f.source_turn_ids}
    return sum(
        any(t not in held for t in q.evidence_turn_ids if t in episode.conversation.turn_position)
        for q in episode.questions
    )
