"""What agents see and return, and the protocols of the two agents.

A manager maps (fact, retrieved memories) to an operation, a target slot and a text. An
answerer maps (question, retrieved memories) to an answer and the memories it selected. Agents
see memories by slot (0..k-1), never by bank id, as in Memory-R1's prompts. An answerer never
sees gold answers: `AskedQuestion` carries only what a user would ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from memgym.data.schema import Fact, Question
from memgym.memory.operations import Op


@dataclass(frozen=True)
class RetrievedMemory:
    """A memory as an agent sees it: its slot in the retrieved list, text, speaker and time."""

    slot: int
    id: str
    text: str
    namespace: str
    time: datetime | None
    score: float


@dataclass(frozen=True)
class AskedQuestion:
    """A question without its gold answer (category only picks prompt hints, e.g. for dates)."""

    id: str
    text: str
    time: datetime | None
    time_raw: str | None
    category: int | str

    @classmethod
    def of(cls, question: Question) -> AskedQuestion:
        return cls(question.id, question.text, question.time, question.time_raw, question.category)


@dataclass(frozen=True)
class ManagerDecision:
    """An operation on the bank. `target` is a slot of the retrieved memories (UPDATE, DELETE,
    optionally NOOP). `error` is set when the decision cannot be used as is; `failure` names
    the kind of failure when the agent could not decide at all (e.g. its endpoint failed)."""

    op: Op
    target: int | None = None
    text: str | None = None
    error: str | None = None
    raw: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Answer:
    """An answer, the slots the answerer selected as relevant, and any failure to record."""

    text: str
    selected: tuple[int, ...] = ()
    error: str | None = None
    raw: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BankState:
    """What a manager may know of the bank besides the shown memories: the namespace the new
    fact goes to, how many memories and tokens that namespace's bank holds, its capacity in
    tokens (None: unbounded), and where the episode is (the fact's index of `n_facts`)."""

    namespace: str
    memories: int
    tokens_used: int
    capacity: int | None
    step: int
    n_facts: int

    @property
    def tokens_free(self) -> int | None:
        """Tokens an ADD may still use (None when the bank is unbounded)."""
        return None if self.capacity is None else max(self.capacity - self.tokens_used, 0)


@runtime_checkable
class MemoryManager(Protocol):
    name: str

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision: ...

    def decide_batch(
        self, items: Sequence[tuple[Fact, Sequence[RetrievedMemory]]]
    ) -> list[ManagerDecision]: ...


@runtime_checkable
class BankAwareManager(Protocol):
    """A manager that also reads the bank's state. `decide_with_bank` is used instead of
    `decide` wherever the bank is known; `decide` stays for callers that know only the fact
    and the shown memories."""

    name: str

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision: ...


def decide_in_bank(
    manager: MemoryManager, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
) -> ManagerDecision:
    """The manager's decision, given the bank's state when the manager reads it."""
    if isinstance(manager, BankAwareManager):
        return manager.decide_with_bank(fact, memories, bank)
    return manager.decide(fact, memories)


@runtime_checkable
class AnswerAgent(Protocol):
    name: str

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer: ...

    def answer_batch(
        self, items: Sequence[tuple[AskedQuestion, Sequence[RetrievedMemory]]]
    ) -> list[Answer]: ...


class SequentialManager:
    """Mixin: the batched call is the single call in a loop (offline agents are cheap)."""

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        raise NotImplementedError

    def decide_batch(
        self, items: Sequence[tuple[Fact, Sequence[RetrievedMemory]]]
    ) -> list[ManagerDecision]:
        return [self.decide(fact, memories) for fact, memories in items]


class SequentialAnswerer:
    """Mixin: the batched call is the single call in a loop (offline agents are cheap)."""

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        raise NotImplementedError

    def answer_batch(
        self, items: Sequence[tuple[AskedQuestion, Sequence[RetrievedMemory]]]
    ) -> list[Answer]:
        return [self.answer(question, memories) for question, memories in items]
