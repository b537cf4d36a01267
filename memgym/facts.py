"""Fact streams: what the memory manager sees as "the new fact", in conversation order.

Sources:
- ``"dataset"``: facts published with the dataset (LoCoMo's ``observation``), each with its turns;
- ``"turns"``: every turn is one fact;
- a :class:`FactExtractor` (e.g. an LLM extractor) that turns each session into facts.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from memgym.data.schema import Conversation, Fact, Session, Turn

FactSourceName = Literal["dataset", "turns"]


@runtime_checkable
class FactExtractor(Protocol):
    """Extracts facts from one session; must set `source_turn_ids` to turns of that session."""

    name: str

    def extract(self, conversation: Conversation, session: Session) -> list[Fact]: ...


FactSource = FactSourceName | FactExtractor


def default_fact_source(dataset_name: str) -> FactSourceName:
    """LoCoMo publishes facts; LongMemEval and MSC are read turn by turn."""
    return "dataset" if dataset_name == "locomo" else "turns"


def fact_source_name(source: FactSource) -> str:
    """A name for result files and caches."""
    return source if isinstance(source, str) else f"extractor:{source.name}"


def turn_fact(conversation: Conversation, session: Session, turn: Turn) -> Fact:
    """A turn as a fact: its rendered text, said at its session's time."""
    return Fact(
        id=f"{conversation.id}/{turn.id}",
        text=turn.render(),
        speaker=turn.speaker,
        session_id=session.id,
        time=session.time,
        time_raw=session.time_raw,
        source_turn_ids=(turn.id,),
    )


def fact_stream(conversation: Conversation, source: FactSource = "dataset") -> list[Fact]:
    """The conversation's facts from `source`, ordered by where their first source turn sits."""
    if source == "dataset":
        if not conversation.facts and any(s.turns for s in conversation.sessions):
            raise ValueError(
                f"conversation {conversation.id!r} has no published facts; use source='turns' "
                "or a FactExtractor"
            )
        return list(conversation.facts)
    if source == "turns":
        return [
            turn_fact(conversation, session, turn)
            for session in conversation.sessions
            for turn in session.turns
        ]
    if isinstance(source, FactExtractor):
        return _extract(conversation, source)
    raise ValueError(
        f"unknown fact source {source!r}; expected 'dataset', 'turns' or a FactExtractor"
    )


def _extract(conversation: Conversation, extractor: FactExtractor) -> list[Fact]:
    facts: list[Fact] = []
    for session in conversation.sessions:
        own = {t.id for t in session.turns}
        for fact in extractor.extract(conversation, session):
            stray = [t for t in fact.source_turn_ids if t not in own]
            if stray:
                raise ValueError(
                    f"extractor {extractor.name!r} tied fact {fact.text!r} to turns {stray} "
                    f"outside session {session.id!r}"
                )
            facts.append(fact)
    position = conversation.turn_position
    return sorted(facts, key=lambda f: min((position[t] for t in f.source_turn_ids), default=0))


def evidence_step(facts: list[Fact], evidence_turn_ids: tuple[str, ...]) -> int | None:
    """Index of the fact after which all of a question's evidence turns have been seen.

    None when no fact carries any of the evidence (the question is not linked to the stream).
    """
    wanted = set(evidence_turn_ids)
    last = None
    for i, fact in enumerate(facts):
        hit = wanted.intersection(fact.source_turn_ids)
        if hit:
            wanted -= hit
            last = i
    return last
