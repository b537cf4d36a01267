"""Managers for banks with a token capacity (`memory_capacity`): what to keep when not
everything fits.

Each reads the bank's state (`BankState`) and values facts by one measure:
- `fill`: ADD while the fact fits, then NOOP;
- `evict`: ADD while the fact fits; when it does not, replace (UPDATE) the shown memory with
  the fewest distinct content words by the fact, if the fact has more;
- `salience`: values a fact by the hand-weighted score of `memgym.agents.salience`, keeps it
  when the value clears a threshold that follows the budget (lower while the bank has more room
  than the episode has facts left, higher when it has less), and evicts the least salient shown
  memory for a more salient fact when full;
- `supervised`: the same rule on the probability that the fact is evidence, from the TF-IDF +
  logistic-regression classifier fitted on LoCoMo conv-26's evidence turns
  (`memgym.agents.turn_classifier`);
- `evidence`: ORACLE, keeps exactly the facts from turns that are evidence for a question,
  first come, first kept. It reads the golds through an explicit channel (`evidence_turn_ids`)
  and is marked ORACLE wherever it appears.

Without a capacity (`bank.capacity` None) they store what their value admits, as a rule would.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from memgym.agents.base import BankState, ManagerDecision, RetrievedMemory, SequentialManager
from memgym.agents.salience import salience_score
from memgym.agents.turn_classifier import TurnClassifier
from memgym.agents.turn_classifier import load as load_classifier
from memgym.data.schema import Fact
from memgym.memory.operations import Op
from memgym.metrics.text import content_stems
from memgym.tokens import count_tokens

Value = Callable[[str, str, Sequence[str]], float]  # (text, speaker, shown texts) -> worth


@dataclass(frozen=True)
class Admission:
    """When a fact is kept. `threshold` is the value a fact needs while the bank's free share
    equals the episode's remaining share (None: every fact is worth keeping); `pace` moves it
    by (remaining share - free share) (0: a fixed threshold). `evict_margin` is how much more a
    fact must be worth than a shown memory to replace it when the bank is full (None: never
    evict)."""

    threshold: float | None = None
    pace: float = 0.0
    evict_margin: float | None = None


def weakest_replaceable(
    memories: Sequence[RetrievedMemory], bank: BankState, needed: int, value: Value
) -> tuple[float, int] | None:
    """(value, slot) of the least valuable shown memory of the fact's bank whose tokens make
    room for `needed` when it is replaced; None when no shown memory does."""
    free = bank.tokens_free or 0
    texts = [m.text for m in memories]
    candidates = [
        (value(m.text, m.namespace, [t for t in texts if t != m.text]), m.slot)
        for m in memories
        if m.namespace == bank.namespace and needed - count_tokens(m.text) <= free
    ]
    return min(candidates) if candidates else None


class CapacityManager(SequentialManager):
    """Keeps facts by `value` under `admission` (see the module docstring)."""

    name = "capacity"

    def __init__(self, value: Value, admission: Admission) -> None:
        self.value = value
        self.admission = admission

    def describe(self) -> dict[str, object]:
        return {"name": self.name, **vars(self.admission)}

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        """Without the bank's state: keep the fact when its value clears the threshold."""
        texts = [m.text for m in memories]
        threshold = self.admission.threshold
        if threshold is not None and self.value(fact.text, fact.speaker, texts) < threshold:
            return ManagerDecision(Op.NOOP)
        return ManagerDecision(Op.ADD, text=fact.text)

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision:
        free = bank.tokens_free
        if bank.capacity is None or free is None:
            return self.decide(fact, memories)
        texts = [m.text for m in memories]
        worth = self.value(fact.text, fact.speaker, texts)
        if worth < self.threshold(bank):
            return ManagerDecision(Op.NOOP)
        needed = count_tokens(fact.text.strip())
        if needed <= free:
            return ManagerDecision(Op.ADD, text=fact.text)
        margin = self.admission.evict_margin
        if margin is None:
            return ManagerDecision(Op.NOOP)
        weakest = weakest_replaceable(memories, bank, needed, self.value)
        if weakest is None or worth <= weakest[0] + margin:
            return ManagerDecision(Op.NOOP)
        return ManagerDecision(Op.UPDATE, target=weakest[1], text=fact.text)

    def threshold(self, bank: BankState) -> float:
        """The value a fact needs now: the base threshold, moved by how far the bank's free
        share is behind (or ahead of) the share of the episode still to come."""
        base = self.admission.threshold
        if base is None:
            return float("-inf")
        if not self.admission.pace or not bank.capacity or bank.tokens_free is None:
            return base
        remaining = (bank.n_facts - bank.step) / max(bank.n_facts, 1)
        free = bank.tokens_free / bank.capacity
        return base + self.admission.pace * (remaining - free)


class FillManager(CapacityManager):
    """ADD every fact until the bank is full, then NOOP."""

    name = "fill"

    def __init__(self) -> None:
        super().__init__(lambda text, speaker, shown: 0.0, Admission())


def information(text: str, speaker: str = "", shown: Sequence[str] = ()) -> float:
    """A fact's worth for `evict`: its distinct content words."""
    return float(len(content_stems(text)))


class EvictManager(CapacityManager):
    """ADD while the fact fits; when full, replace the shown memory with the fewest distinct
    content words by the fact if the fact has more."""

    name = "evict"

    def __init__(self) -> None:
        super().__init__(information, Admission(evict_margin=0.0))


# The salience score's median on LoCoMo conv-26's turns is about 2.2 (the training
# conversation): the base threshold keeps roughly the better half while on pace.
SALIENCE_ADMISSION = Admission(threshold=2.2, pace=2.0, evict_margin=0.3)


class SalienceManager(CapacityManager):
    """Keep salient facts (`memgym.agents.salience`), paced to the budget, evicting the least
    salient shown memory for a more salient fact when full."""

    name = "salience"

    def __init__(self, admission: Admission = SALIENCE_ADMISSION) -> None:
        super().__init__(salience_score, admission)


class SupervisedManager(CapacityManager):
    """The salience rule on a learned value: the probability that the fact is evidence, from
    a TF-IDF + logistic-regression classifier (default: fitted on LoCoMo conv-26)."""

    name = "supervised"

    def __init__(self, classifier: TurnClassifier | None = None) -> None:
        self.classifier = classifier or load_classifier()
        rate = self.classifier.positive_rate
        super().__init__(
            lambda text, speaker, shown: self.classifier.probability(text),
            Admission(threshold=rate, pace=rate, evict_margin=0.05),
        )

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "classifier": self.classifier.trained_on}


class EvidenceManager(CapacityManager):
    """ORACLE: keep exactly the facts from evidence turns (read from the golds through
    `evidence_turn_ids`), first come, first kept. A reference, not a policy."""

    name = "evidence"
    oracle = True

    def __init__(self, evidence_turn_ids: Collection[str]) -> None:
        self.evidence_turn_ids = frozenset(evidence_turn_ids)
        super().__init__(lambda text, speaker, shown: 0.0, Admission())

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision:
        if not self.evidence_turn_ids.intersection(fact.source_turn_ids):
            return ManagerDecision(Op.NOOP)
        fits = bank.tokens_free is None or count_tokens(fact.text.strip()) <= bank.tokens_free
        return ManagerDecision(Op.ADD, text=fact.text) if fits else ManagerDecision(Op.NOOP)

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        if self.evidence_turn_ids.intersection(fact.source_turn_ids):
            return ManagerDecision(Op.ADD, text=fact.text)
        return ManagerDecision(Op.NOOP)
