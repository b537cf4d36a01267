"""The typed schema every dataset loads into (pydantic v2, immutable).

Times are parsed into datetimes where the dataset gives an absolute time; the raw string is kept
beside it so that nothing the authors published is lost.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict

from memgym.errors import Problem

_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        # pydantic gives every instance its own set of the fields it was given (about 700
        # bytes, more than a turn's own data); frozen records never change theirs, and records
        # of one kind give the same few fields, so they share one set. A copy gets its own.
        fields = self.__pydantic_fields_set__
        object.__setattr__(
            self, "__pydantic_fields_set__", _FIELD_SETS.setdefault(frozenset(fields), fields)
        )


class Turn(_Record):
    """One utterance; `id` is the dataset's own id (LoCoMo `D3:5`). Holds no evidence flags."""

    id: str
    session_id: str
    index: int
    speaker: str
    text: str
    image_caption: str | None = None

    def render(self) -> str:
        """The utterance as a memory system should read it (an image turn includes its caption)."""
        if self.image_caption:
            return f"{self.text} [shares a photo: {self.image_caption}]"
        return self.text


class Session(_Record):
    """A dated block of turns; `index` is its 0-based position in the conversation, and
    `source_index` its position in the file when the loader reordered sessions (LongMemEval
    sessions are put in date order)."""

    id: str
    index: int
    time: datetime | None
    time_raw: str | None
    turns: tuple[Turn, ...]
    source_index: int | None = None


class Fact(_Record):
    """A unit of new information for the memory manager, tied to the turns it came from."""

    id: str
    text: str
    speaker: str
    session_id: str
    time: datetime | None
    time_raw: str | None
    source_turn_ids: tuple[str, ...]


class Question(_Record):
    """A benchmark question with its gold answers and evidence (evidence never reaches an agent)."""

    id: str
    conversation_id: str
    text: str
    answers: tuple[str, ...]
    category: int | str
    category_name: str
    evidence_turn_ids: tuple[str, ...] = ()
    evidence_session_ids: tuple[str, ...] = ()
    time: datetime | None = None
    time_raw: str | None = None
    abstention: bool = False
    adversarial_answer: str | None = None


class Conversation(_Record):
    """One multi-session dialogue with its questions and any facts published with it."""

    id: str
    speakers: tuple[str, ...]
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]
    facts: tuple[Fact, ...] = ()

    def turns(self) -> Iterator[Turn]:
        """All turns in conversation order."""
        for session in self.sessions:
            yield from session.turns

    @cached_property
    def turn_position(self) -> dict[str, int]:
        """Map turn id -> 0-based position of the turn in the conversation."""
        return {turn.id: i for i, turn in enumerate(self.turns())}


class ErrataChange(_Record):
    """What an errata entry did to one question: `question` is the question as the source has
    it; `action` is "excluded", "corrected" or "kept" (a citation-only entry in exclude mode)."""

    entry: str
    question: Question
    error_type: str
    correct_answer: str
    action: str


class AppliedErrata(_Record):
    """Errata applied to a dataset: the file, its sha256, the mode, the hash of the data before
    them, and every question they touched."""

    source: str
    sha256: str
    mode: str
    data_hash: str
    changes: tuple[ErrataChange, ...]
    not_in_dataset: int = 0


class Dataset(_Record):
    """A loaded split: `content_hash` is the sha256 of the source file bytes (or folder listing),
    combined with the errata's when errata were applied (`errata` records both);
    `warnings` lists every defect of the source that the loader repaired or skipped."""

    name: str
    variant: str
    split: str
    source: str
    content_hash: str
    include_adversarial: bool = False
    conversations: tuple[Conversation, ...]
    warnings: tuple[Problem, ...] = ()
    errata: AppliedErrata | None = None

    def questions(self) -> Iterator[Question]:
        """All questions of the split, conversation by conversation."""
        for conversation in self.conversations:
            yield from conversation.questions

    @cached_property
    def conversation_by_id(self) -> dict[str, Conversation]:
        """Map conversation id -> conversation."""
        return {c.id: c for c in self.conversations}

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this data in a result file."""
        identity: dict[str, Any] = {
            "name": self.name,
            "variant": self.variant,
            "split": self.split,
            "content_hash": self.content_hash,
            "include_adversarial": self.include_adversarial,
        }
        if self.errata is not None:
            identity["errata"] = {"sha256": self.errata.sha256, "mode": self.errata.mode}
        return identity
