"""Offline agents: baselines that need no model, no key and no network.

Managers: `add_all` (store every fact), `noop` (store nothing), `heuristic` (Mem0-like rules),
`random` (a seeded random policy) and `concat` (adversarial: merges every fact into the top
shown memory while the word limit allows, the manager that games lexical reward proxies).
Answerers: `extractive` (best-matching memory span, never sees gold) and `oracle_support`, an
ORACLE that reads the gold answer and is meant only as a cheap reward proxy, never as a
baseline (`support` is its deprecated name).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from memgym.agents.base import (
    Answer,
    AskedQuestion,
    ManagerDecision,
    RetrievedMemory,
    SequentialAnswerer,
    SequentialManager,
)
from memgym.agents.prompts import dated_line
from memgym.config import DEFAULT_MAX_MEMORY_WORDS
from memgym.data.schema import Fact
from memgym.memory.operations import Op
from memgym.metrics.retrieval import memory_tokens, token_support
from memgym.metrics.text import content_stems, overlap, porter_stem, statements
from memgym.retrieval.tokenizer import STOPWORDS


class AddAllManager(SequentialManager):
    """ADD every fact verbatim: the bank grows with the conversation."""

    name = "add_all"

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        return ManagerDecision(Op.ADD, text=fact.text)


class NoopManager(SequentialManager):
    """Never store anything: the empty-bank floor."""

    name = "noop"

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        return ManagerDecision(Op.NOOP)


_NEGATION = re.compile(
    r"\b(no longer|not anymore|any ?more|stopped|quit|gave up|ended|isn't|is not|doesn't|"
    r"does not|don't|do not|never|decided against|left|broke up)\b",
    re.I,
)


@dataclass(frozen=True)
class HeuristicThresholds:
    """Overlap coefficients on stemmed content words (subject names excluded).

    duplicate: at or above -> NOOP (the fact is already stored).
    related: at or above (and below duplicate) -> UPDATE with a merged text, or DELETE when the
        fact negates the memory.
    max_merged_words: a merge longer than this is an ADD instead (memories stay short; the
        env's `max_memory_words` by default).
    """

    duplicate: float = 0.8
    related: float = 0.34
    max_merged_words: int = DEFAULT_MAX_MEMORY_WORDS


class HeuristicManager(SequentialManager):
    """Mem0-like rules: near-duplicate -> NOOP; negation of a related memory -> DELETE;
    same subject with new detail -> UPDATE to a merge that keeps both; otherwise ADD."""

    name = "heuristic"

    def __init__(self, thresholds: HeuristicThresholds | None = None) -> None:
        self.thresholds = thresholds or HeuristicThresholds()

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        subject = content_stems(fact.speaker)
        fact_words = content_stems(fact.text) - subject
        best: tuple[float, RetrievedMemory] | None = None
        for memory in memories:
            score = overlap(fact_words, content_stems(memory.text) - subject)
            if best is None or score > best[0]:
                best = (score, memory)
        if best is None or best[0] < self.thresholds.related:
            return ManagerDecision(Op.ADD, text=fact.text)
        score, memory = best
        if _NEGATION.search(fact.text) and not _NEGATION.search(memory.text):
            return ManagerDecision(Op.DELETE, target=memory.slot)
        if score >= self.thresholds.duplicate:
            return ManagerDecision(Op.NOOP, target=memory.slot)
        merged = merge_texts(memory.text, fact.text)
        if len(merged.split()) > self.thresholds.max_merged_words:
            return ManagerDecision(Op.ADD, text=fact.text)
        return ManagerDecision(Op.UPDATE, target=memory.slot, text=merged)


def merge_texts(memory: str, fact: str) -> str:
    """Both pieces of information in one memory: the old text, then the new fact."""
    return f"{memory.rstrip().rstrip('.')}; {fact.strip()}"


class ConcatManager(SequentialManager):
    """ADVERSARIAL baseline: UPDATE the top shown memory to itself plus the new fact whenever
    the merge fits `max_words`, else ADD. It keeps few, long memories, which lexical reward
    proxies over-reward; a reward that it games is not a reader's reward."""

    name = "concat"

    def __init__(self, max_words: int = DEFAULT_MAX_MEMORY_WORDS) -> None:
        self.max_words = max_words

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        if memories:
            merged = merge_texts(memories[0].text, fact.text)
            if len(merged.split()) <= self.max_words:
                return ManagerDecision(Op.UPDATE, target=memories[0].slot, text=merged)
        return ManagerDecision(Op.ADD, text=fact.text)


class RandomManager(SequentialManager):
    """A seeded random policy over the four operations (ADD stores the fact, UPDATE a merge
    with a random shown memory): the floor a learned manager must beat."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(seed)

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "seed": self.seed}

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        op = Op(self._rng.randrange(4))
        if op == Op.ADD or (op != Op.NOOP and not memories):
            return ManagerDecision(Op.ADD, text=fact.text)
        if op == Op.NOOP:
            return ManagerDecision(Op.NOOP)
        target = self._rng.randrange(len(memories))
        text = merge_texts(memories[target].text, fact.text) if op == Op.UPDATE else None
        return ManagerDecision(op, target=target, text=text)


_WH_TIME = re.compile(r"^\s*(when|what (date|year|month|day|time))\b", re.I)


class ExtractiveAnswerer(SequentialAnswerer):
    """Pick the memory sharing the most (rarer) words with the question; answer with its words
    that the question does not already contain (at most `max_words`), or with its date for
    "when" questions. Never sees gold answers."""

    name = "extractive"

    def __init__(self, max_words: int = 6) -> None:
        self.max_words = max_words

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        asked = content_stems(question.text)
        if not memories or not asked:
            return Answer("")
        document_frequency: dict[str, int] = {}
        stems = [content_stems(m.text) for m in memories]
        for words in stems:
            for w in words:
                document_frequency[w] = document_frequency.get(w, 0) + 1

        def weight(words: frozenset[str]) -> float:
            # Summed in sorted order: set order follows PYTHONHASHSEED, and float sums do not
            # commute, so ties would break differently from one process to the next.
            return sum(1.0 / document_frequency[w] for w in sorted(words & asked))

        scores = [weight(words) for words in stems]
        best = max(range(len(memories)), key=lambda i: (scores[i], -i))
        memory = memories[best]
        if scores[best] == 0:
            return Answer("", selected=())
        if _WH_TIME.match(question.text) and memory.time is not None:
            text = f"{memory.time.day} {memory.time:%B %Y}"
        else:
            memory_words = re.findall(r"[\w'&-]+", memory.text)
            new = [
                w
                for w in memory_words
                if w.lower() not in STOPWORDS and porter_stem(w.lower()) not in asked
            ]
            text = " ".join(new[: self.max_words])
        return Answer(text, selected=(memory.slot,))


class OracleSupportAnswerer(SequentialAnswerer):
    """ORACLE reward proxy, not a baseline: answers with the gold answer exactly when a reader
    could copy it from what it is given, else with nothing; its exact match is the 'support' of
    the context. The context is what the answer agent reads: the memories cut to its token
    budget, each with its date. Each comma-separated part of the gold answer must appear whole
    in one statement (a sentence or semicolon clause) of one memory, with that memory's date:
    words scattered over unrelated facts glued into one memory support nothing. Slot ids are
    prompt scaffolding and are left out (the slot "[3]" never supports the answer "3")."""

    name = "oracle_support"
    oracle = True

    def __init__(self, gold: Mapping[str, Sequence[str]]) -> None:
        self.gold = gold

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        answers = [a for a in self.gold.get(question.id, ()) if a]
        lines = [line for m in memories for line in _statement_tokens(m)]
        for gold in answers:
            if token_support(gold, lines) == 1.0:
                return Answer(gold, details={"oracle": self.name})
        return Answer("", details={"oracle": self.name})


def supports(answers: Sequence[str], text: str, time: datetime | None) -> bool:
    """Whether one memory (its text, dated `time` as the reader sees it) supports one of the
    gold `answers` by `oracle_support`'s test."""
    lines = _dated_statement_tokens(text, time)
    return any(token_support(a, lines) == 1.0 for a in answers if a)


def _statement_tokens(memory: RetrievedMemory) -> tuple[frozenset[str], ...]:
    """Each statement of a memory as the reader sees it (dated), as support tokens."""
    return _dated_statement_tokens(memory.text, memory.time)


@lru_cache(maxsize=65536)
def _dated_statement_tokens(text: str, time: datetime | None) -> tuple[frozenset[str], ...]:
    return tuple(memory_tokens(dated_line(s, time)) for s in statements(text))
