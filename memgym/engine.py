"""The one code path from facts to a memory bank and from a bank to answers.

MemoryManagerEnv, AnswerAgentEnv and the leaderboard all run conversations through
`ConversationMemory`, so a number from the leaderboard and a reward from an env mean the same:
the same action rules (`memgym.actions`), the same retrieval, the same answer context (cut to
the reader's token budget).
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from memgym.actions import validate_decision
from memgym.agents.base import (
    Answer,
    AnswerAgent,
    AskedQuestion,
    BankState,
    ManagerDecision,
    MemoryManager,
    RetrievedMemory,
    decide_in_bank,
)
from memgym.agents.context import fit_to_budget
from memgym.config import MemoryConfig
from memgym.data.schema import Conversation, Fact, Question
from memgym.memory.bank import MemoryBank, ScoredEntry
from memgym.memory.capacity import BankCapacity, bank_capacity
from memgym.memory.operations import Op
from memgym.retrieval.base import Retriever
from memgym.retrieval.embedders import make_embedder
from memgym.retrieval.embedding_cache import EmbeddingCache
from memgym.retrieval.factory import make_retriever
from memgym.tokens import count_tokens

__all__ = ["ConversationMemory", "MemoryConfig", "Outcome", "embedding_cache_for"]


def default_cache_dir() -> Path:
    """`$MEMGYM_CACHE_DIR`, else `~/.cache/memgym`."""
    return Path(os.environ.get("MEMGYM_CACHE_DIR") or Path.home() / ".cache" / "memgym")


Progress = Callable[[int], None]  # told how many more items are done
PREFETCH_CHUNK = 256
_CACHES: dict[tuple[str, str | None], EmbeddingCache] = {}
_CACHES_LOCK = threading.Lock()


def shared_embedding_cache(embedder: str, folder: Path | None = None) -> EmbeddingCache:
    """One cache per (embedder, folder) per process, so the model loads and embeds once."""
    key = (embedder, None if folder is None else str(folder))
    with _CACHES_LOCK:
        if key not in _CACHES:
            _CACHES[key] = EmbeddingCache(make_embedder(embedder), folder)
        return _CACHES[key]


def embedding_cache_for(
    config: MemoryConfig, folder: str | Path | None = None
) -> EmbeddingCache | None:
    """The process-wide cache for `config`'s embedder (None for BM25). The MiniLM cache lives
    on disk (`folder`, default `$MEMGYM_CACHE_DIR/embeddings`) so that workers and later runs
    never embed the same text again; the hashing embedder is cheap and stays in memory."""
    if config.retriever == "bm25":
        return None
    if folder is None and config.embedder == "minilm":
        folder = default_cache_dir() / "embeddings"
    return shared_embedding_cache(config.embedder, None if folder is None else Path(folder))


@dataclass(frozen=True)
class Outcome:
    """What applying a decision did: the op, the memory touched, or why nothing changed
    (`invalid`), and whether the agent failed to decide at all (`failure`)."""

    op: Op
    entry_id: str | None = None
    invalid: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Room:
    """A write against its bank's capacity: the namespace it goes to, the tokens it adds
    (an UPDATE's net growth; 0 for DELETE and NOOP) and the tokens free before it (None when
    the bank is unbounded)."""

    namespace: str
    needed: int
    free: int | None

    @property
    def fits(self) -> bool:
        return self.free is None or self.needed <= self.free


class ConversationMemory:
    """A bank for one conversation plus the retrieval and writing rules of `config`."""

    def __init__(
        self,
        conversation: Conversation,
        config: MemoryConfig,
        cache: EmbeddingCache | None = None,
        retriever_factory: Callable[[], Retriever] | None = None,
        facts: Sequence[Fact] | None = None,
        capacity: BankCapacity | None = None,
    ) -> None:
        """`facts` is the conversation's fact stream, needed when `config.memory_capacity` is a
        share of each speaker's fact tokens; `capacity`, when given, is that capacity already
        resolved (`self.capacity` of an earlier memory of the same conversation)."""
        self.conversation = conversation
        self.config = config
        self.capacity = capacity
        if capacity is None and config.memory_capacity is not None:
            if facts is None and isinstance(config.memory_capacity, float):
                raise ValueError("a memory_capacity share needs the conversation's fact stream")
            self.capacity = bank_capacity(config.memory_capacity, facts or (), self.namespace)
        retriever: Retriever
        if retriever_factory is not None:
            retriever = retriever_factory()
        elif config.retriever == "bm25":
            retriever = make_retriever("bm25")
        else:
            if cache is None:  # an empty cache is falsy (it has a length): test for None
                cache = shared_embedding_cache(config.embedder)
            retriever = make_retriever(
                config.retriever, cache=cache, dense_index=config.dense_index
            )
        self.cache = cache
        self.bank = MemoryBank(retriever, config.max_text_chars)
        # Namespaces are indexed independently, so a question's hits in a namespace stay valid
        # until a write to that namespace: rewards rescore questions after every step.
        self._versions: dict[str, int] = {}
        self._question_hits: dict[
            tuple[str, str], tuple[int, list[ScoredEntry], list[RetrievedMemory]]
        ] = {}

    def fork(self) -> ConversationMemory:
        """An independent copy (bank and retrieval caches copied, embedding cache shared)."""
        twin = copy.copy(self)
        twin.bank = self.bank.copy()
        twin._versions = dict(self._versions)
        twin._question_hits = dict(self._question_hits)
        return twin

    def prefetch(self, texts: Sequence[str], progress: Progress | None = None) -> None:
        """Embed texts ahead of use (no-op for BM25); with `progress`, in chunks it is told of."""
        if self.cache is None:
            return
        if progress is None:
            self.cache.vectors(list(texts))
            return
        for start in range(0, len(texts), PREFETCH_CHUNK):
            chunk = list(texts[start : start + PREFETCH_CHUNK])
            self.cache.vectors(chunk)
            progress(len(chunk))

    def namespace(self, fact: Fact) -> str:
        return fact.speaker if self.config.namespace_by == "speaker" else "default"

    def bank_state(self, fact: Fact, step: int, n_facts: int) -> BankState:
        """The state of the bank `fact` goes to, as a manager may read it."""
        namespace = self.namespace(fact)
        memories, tokens = self.bank.usage(namespace)
        return BankState(
            namespace=namespace,
            memories=memories,
            tokens_used=tokens,
            capacity=None if self.capacity is None else self.capacity.of(namespace),
            step=step,
            n_facts=n_facts,
        )

    def room(
        self, decision: ManagerDecision, fact: Fact, visible: Sequence[RetrievedMemory]
    ) -> Room:
        """What a valid decision adds to its bank, against the tokens free there."""
        shown = _target(decision, visible)
        namespace = self.namespace(fact) if shown is None else shown.namespace
        needed = 0
        if decision.op in (Op.ADD, Op.UPDATE) and decision.text is not None:
            needed = count_tokens(decision.text.strip())
            if decision.op == Op.UPDATE and shown is not None:
                needed -= count_tokens(shown.text)
        if self.capacity is None:
            return Room(namespace, needed, None)
        free = self.capacity.of(namespace) - self.bank.usage(namespace)[1]
        return Room(namespace, needed, max(free, 0))

    def check(
        self, decision: ManagerDecision, fact: Fact, visible: Sequence[RetrievedMemory]
    ) -> str | None:
        """Why the decision cannot be applied (its form, or its bank's capacity), or None."""
        reason = validate_decision(decision, visible, fact, self.config)
        if reason is not None or self.capacity is None:
            return reason
        room = self.room(decision, fact, visible)
        if room.fits:
            return None
        return (
            f"{decision.op.name} needs {room.needed} tokens but the bank of {room.namespace} "
            f"has {room.free} free (capacity {self.capacity.of(room.namespace)}); DELETE or "
            "UPDATE a memory to make room"
        )

    def decide(
        self,
        manager: MemoryManager,
        fact: Fact,
        visible: Sequence[RetrievedMemory],
        step: int,
        n_facts: int,
    ) -> ManagerDecision:
        """The manager's decision on `fact`, with the bank's state if the manager reads it."""
        return decide_in_bank(manager, fact, visible, self.bank_state(fact, step, n_facts))

    def namespaces(self) -> list[str]:
        """The conversation's speakers (or the shared bank), then any other namespace in use."""
        base = (
            list(self.conversation.speakers)
            if self.config.namespace_by == "speaker"
            else ["default"]
        )
        return list(dict.fromkeys([*base, *self.bank.namespaces()]))

    def memories_for_fact(self, fact: Fact) -> list[RetrievedMemory]:
        """The top `observation_k` memories of the fact's namespace, as slots 0..k-1."""
        return _as_slots(
            self.bank.search(fact.text, self.config.observation_k, self.namespace(fact))
        )

    def ranked_for_question(self, question: Question | AskedQuestion) -> list[list[ScoredEntry]]:
        """The top `answer_k` memories of every namespace (all of them when answer_k is None),
        best first, one list per namespace."""
        return [hits for hits, _ in self._ranked(question)]

    def _ranked(
        self, question: Question | AskedQuestion
    ) -> list[tuple[list[ScoredEntry], list[RetrievedMemory]]]:
        """Per namespace, the hits and their slots, cached until the namespace is written."""
        ranked = []
        for namespace in self.namespaces():
            version = self._versions.get(namespace, 0)
            cached = self._question_hits.get((question.id, namespace))
            if cached is None or cached[0] != version:
                k = self.config.answer_k or max(1, self.bank.usage(namespace)[0])
                found = self.bank.search(question.text, k, namespace)
                cached = (version, found, _as_slots(found))
                self._question_hits[(question.id, namespace)] = cached
            ranked.append((cached[1], cached[2]))
        return ranked

    def memories_for_question(self, question: Question | AskedQuestion) -> list[RetrievedMemory]:
        """The top `answer_k` memories of every namespace, speaker by speaker, as slots (no
        token budget: what retrieval found)."""
        return _as_slots([hit for group in self.ranked_for_question(question) for hit in group])

    def answer_context(self, question: Question | AskedQuestion) -> list[RetrievedMemory]:
        """What the answer agent reads: the retrieved memories that fit its prompt budget."""
        asked = question if isinstance(question, AskedQuestion) else AskedQuestion.of(question)
        ranked = [slots for _, slots in self._ranked(question)]
        return fit_to_budget(asked, ranked, self.config.answer_prompt_tokens)

    def apply(
        self, decision: ManagerDecision, fact: Fact, visible: Sequence[RetrievedMemory], step: int
    ) -> Outcome:
        """Apply a decision about `fact`; an invalid one changes nothing and says why."""
        reason = self.check(decision, fact, visible)
        if reason is not None:
            return Outcome(decision.op, invalid=reason, failure=decision.failure)
        shown = _target(decision, visible)
        target = None if shown is None else shown.id
        namespace = self.namespace(fact) if shown is None else shown.namespace
        if decision.op != Op.NOOP:
            self._versions[namespace] = self._versions.get(namespace, 0) + 1
        sources = {"source_fact_ids": [fact.id], "source_turn_ids": list(fact.source_turn_ids)}
        if decision.op == Op.ADD:
            assert decision.text is not None
            entry = self.bank.add(decision.text, namespace, time=fact.time, step=step, **sources)
            return Outcome(Op.ADD, entry.id)
        if decision.op == Op.UPDATE:
            assert decision.text is not None and target is not None
            self.bank.update(target, decision.text, time=fact.time, step=step, **sources)
        elif decision.op == Op.DELETE:
            assert target is not None
            self.bank.delete(target, step=step)
        else:
            self.bank.noop(target, step=step)
        return Outcome(decision.op, target)

    def run_manager(
        self,
        facts: Sequence[Fact],
        manager: MemoryManager,
        progress: Progress | None = None,
        n_facts: int | None = None,
    ) -> list[Outcome]:
        """Let `manager` process every fact in order (what an env episode does step by step);
        `n_facts` is the length of the stream these facts open (default: just these), which
        the manager sees as the bank's position."""
        outcomes = []
        for step, fact in enumerate(facts):
            visible = self.memories_for_fact(fact)
            decision = self.decide(manager, fact, visible, step, n_facts or len(facts))
            outcomes.append(self.apply(decision, fact, visible, step))
            if progress is not None:
                progress(1)
        return outcomes

    def answer(
        self, answerer: AnswerAgent, questions: Sequence[Question]
    ) -> list[tuple[Answer, list[RetrievedMemory]]]:
        """The answerer's answers (one batch) and the context each was given."""
        asked = [AskedQuestion.of(q) for q in questions]
        contexts = [self.answer_context(q) for q in asked]
        answers = answerer.answer_batch(list(zip(asked, contexts, strict=True)))
        return list(zip(answers, contexts, strict=True))


def _target(
    decision: ManagerDecision, visible: Sequence[RetrievedMemory]
) -> RetrievedMemory | None:
    """The shown memory a decision acts on: ADD has none; a NOOP may name one, and otherwise
    its target is ignored."""
    slot = decision.target
    if decision.op == Op.ADD or slot is None or not 0 <= slot < len(visible):
        return None
    return visible[slot]


def _as_slots(hits: Sequence[ScoredEntry]) -> list[RetrievedMemory]:
    return [
        RetrievedMemory(
            slot=i,
            id=h.entry.id,
            text=h.entry.text,
            namespace=h.entry.namespace,
            time=h.entry.updated_at,
            score=h.score,
        )
        for i, h in enumerate(hits)
    ]
