"""Fact streams: dataset facts, turns, extractors, and where a question's evidence arrives."""

from __future__ import annotations

import pytest

from memgym.data import Conversation, Fact, Session, load_dataset
from memgym.facts import FactExtractor, default_fact_source, evidence_step, fact_stream


def test_dataset_source_gives_published_facts_with_source_turns() -> None:
    conv = load_dataset("locomo").conversations[0]
    facts = fact_stream(conv, "dataset")
    assert facts[0].text == "Andrew adopted a golden retriever named Buddy."
    assert facts[0].source_turn_ids == ("D1:1",)
    assert facts[0].time_raw == "2:15 pm on 3 March, 2023"


def test_turn_source_gives_one_fact_per_turn_in_order() -> None:
    conv = load_dataset("longmemeval").conversation_by_id["lme-ku-1"]
    facts = fact_stream(conv, "turns")
    assert [f.source_turn_ids for f in facts] == [(t.id,) for t in conv.turns()]
    assert facts[2].text == "New record: 12 pull-ups!" and facts[2].speaker == "user"


def test_dataset_source_without_published_facts_is_refused() -> None:
    with pytest.raises(ValueError, match="no published facts"):
        fact_stream(load_dataset("msc").conversations[0], "dataset")


def test_default_source_per_dataset() -> None:
    assert [default_fact_source(n) for n in ("locomo", "longmemeval", "msc")] == [
        "dataset",
        "turns",
        "turns",
    ]


class _FirstSentence:
    name = "first-sentence"

    def extract(self, conversation: Conversation, session: Session) -> list[Fact]:
        return [
            Fact(
                id=f"{session.id}/{t.id}",
                text=t.text.split(".")[0],
                speaker=t.speaker,
                session_id=session.id,
                time=session.time,
                time_raw=session.time_raw,
                source_turn_ids=(t.id,),
            )
            for t in reversed(session.turns)
        ]


class _Stray(_FirstSentence):
    name = "stray"

    def extract(self, conversation: Conversation, session: Session) -> list[Fact]:
        return [
            f.model_copy(update={"source_turn_ids": ("D99:1",)})
            for f in super().extract(conversation, session)
        ]


def test_extractor_output_is_put_in_conversation_order_and_checked() -> None:
    conv = load_dataset("locomo").conversations[1]
    assert isinstance(_FirstSentence(), FactExtractor)
    facts = fact_stream(conv, _FirstSentence())
    assert [f.source_turn_ids[0] for f in facts] == [t.id for t in conv.turns()]
    with pytest.raises(ValueError, match="outside session"):
        fact_stream(conv, _Stray())


def test_evidence_step_is_where_the_last_linked_fact_arrives() -> None:
    conv = load_dataset("locomo").conversations[0]
    facts = fact_stream(conv)
    dogs = next(q for q in conv.questions if q.text == "What are the names of Andrew's dogs?")
    step = evidence_step(facts, dogs.evidence_turn_ids)
    assert step is not None and facts[step].source_turn_ids == ("D2:1",)
    assert evidence_step(facts, ()) is None
