"""The numbers a learned manager reads under a memory capacity, and the discrete actions it
picks: one definition for the env wrapper a policy trains behind (`FeatureObservation(...,
features="capacity")`, `DiscreteOperation(..., update="replace")`) and the `ppo` manager that
runs the trained policy, so training and evaluation read the same features.

Per fact: everything the `salience` rule looks at (its score, each signal, redundancy with the
shown memories), the fact's size against the bank's capacity, the bank's free and used shares,
the position in the episode, how far the free share is ahead of the remaining share, whether
the fact fits, and the bank's size. Per shown memory slot: filled, overlap with the fact, its
salience, its size, whether replacing it by the fact fits, whether it is in the fact's bank.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from memgym.agents.base import BankState, ManagerDecision, RetrievedMemory
from memgym.agents.capacity import weakest_replaceable
from memgym.agents.offline import merge_texts
from memgym.agents.salience import SIGNALS, redundancy, salience_score, text_signals
from memgym.data.schema import Fact
from memgym.memory.operations import Op
from memgym.metrics.text import content_stems, overlap
from memgym.tokens import count_tokens

FEATURE_SET = "memgym-capacity-features"
FEATURE_VERSION = 1
FACT_FEATURES: tuple[str, ...] = (
    "salience",
    *(f"signal.{s}" for s in SIGNALS),
    "redundancy",
    "fact_tokens",
    "free",
    "used",
    "position",
    "pace",
    "fits",
    "memories",
)
SLOT_FEATURES: tuple[str, ...] = (
    "filled",
    "overlap",
    "salience",
    "tokens",
    "fits_if_replaced",
    "same_bank",
)
SALIENCE_SCALE = 4.0  # salience scores mostly fall in [0, 4]


def feature_names(k: int) -> list[str]:
    """The names of the vector's entries, in order, for `k` memory slots."""
    return [*FACT_FEATURES, *(f"slot{i}.{n}" for i in range(k) for n in SLOT_FEATURES)]


def feature_definition(k: int) -> dict[str, Any]:
    """What a policy file records about the features it was trained on."""
    return {"name": FEATURE_SET, "version": FEATURE_VERSION, "k": k, "names": feature_names(k)}


def capacity_features(
    fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState, k: int
) -> np.ndarray:
    """The feature vector (float32, `len(feature_names(k))`) of a fact, its first `k` shown
    memories and its bank. Sizes are shares of the bank's capacity (of 1,000 tokens when the
    bank is unbounded)."""
    shown = list(memories[:k])
    texts = [m.text for m in shown]
    capacity = float(bank.capacity or 1000)
    free = float(bank.tokens_free if bank.tokens_free is not None else capacity)
    needed = count_tokens(fact.text.strip())
    remaining = (bank.n_facts - bank.step) / max(bank.n_facts, 1)
    head = [
        salience_score(fact.text, fact.speaker, texts) / SALIENCE_SCALE,
        *text_signals(fact.text, fact.speaker),
        redundancy(fact.text, texts),
        min(needed / capacity, 1.0),
        free / capacity,
        min(bank.tokens_used / capacity, 1.0),
        1.0 - remaining,
        free / capacity - remaining,
        1.0 if needed <= free else 0.0,
        math.log1p(bank.memories) / 6.0,
    ]
    fact_words = content_stems(fact.text)
    slots = np.zeros((k, len(SLOT_FEATURES)), dtype=np.float32)
    for i, memory in enumerate(shown):
        size = count_tokens(memory.text)
        slots[i] = (
            1.0,
            overlap(fact_words, content_stems(memory.text)),
            salience_score(memory.text, memory.namespace) / SALIENCE_SCALE,
            min(size / capacity, 1.0),
            1.0 if needed - size <= free else 0.0,
            1.0 if memory.namespace == bank.namespace else 0.0,
        )
    return np.concatenate([np.asarray(head, dtype=np.float32), slots.reshape(-1)])


UPDATES = ("merge", "replace")


def discrete_decision(
    op: int,
    slot: int,
    fact: Fact,
    memories: Sequence[RetrievedMemory],
    update: str = "merge",
    max_words: int = 40,
) -> ManagerDecision:
    """The decision for a discrete (operation, slot) action: ADD stores the fact; UPDATE writes
    the fact over the slot's memory (`update="replace"`, eviction) or a merge of both that
    fits `max_words` (`"merge"`; an ADD of the fact when it does not); DELETE and NOOP name the
    slot."""
    if update not in UPDATES:
        raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
    operation = Op(op)
    if operation == Op.ADD:
        return ManagerDecision(Op.ADD, text=fact.text)
    if operation == Op.UPDATE and slot < len(memories):
        if update == "replace":
            return ManagerDecision(Op.UPDATE, target=slot, text=fact.text)
        merged = merge_texts(memories[slot].text, fact.text)
        if len(merged.split()) > max_words:
            return ManagerDecision(Op.ADD, text=fact.text)
        return ManagerDecision(Op.UPDATE, target=slot, text=merged)
    return ManagerDecision(operation, target=slot)


def keep_decision(
    keep: bool, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
) -> ManagerDecision:
    """The decision for a keep-or-skip action: skip is NOOP; keep ADDs the fact when it fits,
    else writes it over the least salient shown memory of its bank whose room makes it fit
    (as `salience` evicts), and is a NOOP when none does."""
    if not keep:
        return ManagerDecision(Op.NOOP)
    needed = count_tokens(fact.text.strip())
    if bank.tokens_free is None or needed <= bank.tokens_free:
        return ManagerDecision(Op.ADD, text=fact.text)
    weakest = weakest_replaceable(memories, bank, needed, salience_score)
    if weakest is None:
        return ManagerDecision(Op.NOOP)
    return ManagerDecision(Op.UPDATE, target=weakest[1], text=fact.text)
