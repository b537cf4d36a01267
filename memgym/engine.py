"""The one code path from facts to a memory bank and from a bank to answers.

MemoryManagerEnv, AnswerAgentEnv and the leaderboard all run conversations through
`ConversationMemory`, so a number from the leaderboard and a reward from an env mean the same.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from memgym.agents.base import (
    Answer,
    AnswerAgent,
    AskedQuestion,
    ManagerDecision,
    MemoryManager,
    RetrievedMemory,
)
from memgym.data.schema import Conversation, Fact, Question
from memgym.memory.bank import MemoryBank, ScoredEntry
from memgym.memory.operations import Op
from memgym.retrieval.base import Retriever
from memgym.retrieval.embedders import make_embedder
from memgym.retrieval.embedding_cache import EmbeddingCache
from memgym.retrieval.factory import make_retriever


@dataclass(frozen=True)
class MemoryConfig:
    """Everything that decides what an agent sees; recorded in every result file.

    observation_k: memories shown with each new fact (of the fact's namespace).
    answer_k: memories retrieved per namespace for a question (Memory-R1: 30 per speaker).
    namespace_by: "speaker" gives each speaker a bank, as in Mem0/Memory-R1; "none" shares one.
    """

    retriever: str = "hybrid"
    embedder: str = "minilm"
    dense_index: Literal["exact", "hnsw"] = "exact"
    observation_k: int = 10
    answer_k: int = 30
    namespace_by: Literal["speaker", "none"] = "speaker"
    max_text_chars: int = 2000

    def describe(self) -> dict[str, Any]:
        return asdict(self)


def default_cache_dir() -> Path:
    """`$MEMGYM_CACHE_DIR`, else `~/.cache/memgym`."""
    return Path(os.environ.get("MEMGYM_CACHE_DIR") or Path.home() / ".cache" / "memgym")


_CACHES: dict[tuple[str, str | None], EmbeddingCache] = {}


def shared_embedding_cache(embedder: str, folder: Path | None = None) -> EmbeddingCache:
    """One cache per (embedder, folder) per process, so the model loads and embeds once."""
    key = (embedder, None if folder is None else str(folder))
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
    """What applying a decision did: the op, the memory touched, or why nothing changed."""

    op: Op
    entry_id: str | None = None
    invalid: str | None = None


class ConversationMemory:
    """A bank for one conversation plus the retrieval rules of `config`."""

    def __init__(
        self,
        conversation: Conversation,
        config: MemoryConfig,
        cache: EmbeddingCache | None = None,
        retriever_factory: Callable[[], Retriever] | None = None,
    ) -> None:
        self.conversation = conversation
        self.config = config
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
        self._question_hits: dict[tuple[str, str], tuple[int, list[ScoredEntry]]] = {}

    def fork(self) -> ConversationMemory:
        """An independent copy (bank and retrieval caches copied, embedding cache shared)."""
        twin = copy.copy(self)
        twin.bank = self.bank.copy()
        twin._versions = dict(self._versions)
        twin._question_hits = dict(self._question_hits)
        return twin

    def prefetch(self, texts: Sequence[str]) -> None:
        """Embed texts in one batch ahead of use (no-op for BM25)."""
        if self.cache is not None:
            self.cache.vectors(list(texts))

    def namespace(self, fact: Fact) -> str:
        return fact.speaker if self.config.namespace_by == "speaker" else "default"

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

    def memories_for_question(self, question: Question | AskedQuestion) -> list[RetrievedMemory]:
        """The top `answer_k` memories of every namespace, speaker by speaker, as slots."""
        hits: list[ScoredEntry] = []
        for namespace in self.namespaces():
            version = self._versions.get(namespace, 0)
            cached = self._question_hits.get((question.id, namespace))
            if cached is None or cached[0] != version:
                found = self.bank.search(question.text, self.config.answer_k, namespace)
                cached = self._question_hits[(question.id, namespace)] = (version, found)
            hits.extend(cached[1])
        return _as_slots(hits)

    def apply(
        self, decision: ManagerDecision, fact: Fact, visible: Sequence[RetrievedMemory], step: int
    ) -> Outcome:
        """Apply a decision about `fact`; an invalid one changes nothing and says why."""
        reason = self.validate(decision, visible)
        if reason is not None:
            return Outcome(decision.op, invalid=reason)
        shown = None if decision.target is None else visible[decision.target]
        target = None if shown is None else shown.id
        if decision.op != Op.NOOP:
            namespace = self.namespace(fact) if shown is None else shown.namespace
            self._versions[namespace] = self._versions.get(namespace, 0) + 1
        sources = {"source_fact_ids": [fact.id], "source_turn_ids": list(fact.source_turn_ids)}
        if decision.op == Op.ADD:
            assert decision.text is not None
            entry = self.bank.add(
                decision.text, self.namespace(fact), time=fact.time, step=step, **sources
            )
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

    def validate(self, decision: ManagerDecision, visible: Sequence[RetrievedMemory]) -> str | None:
        """Why a decision cannot be applied, or None if it can."""
        if not isinstance(decision.op, Op):
            return f"unknown operation {decision.op!r}"
        needs_target = decision.op in (Op.UPDATE, Op.DELETE)
        if decision.target is not None or needs_target:
            if decision.target is None:
                return f"{decision.op.name} needs a target slot"
            if not 0 <= decision.target < len(visible):
                return f"target slot {decision.target} is not in 0..{len(visible) - 1}"
        if decision.op in (Op.ADD, Op.UPDATE):
            text = decision.text
            if not isinstance(text, str) or not text.strip():
                return f"{decision.op.name} needs a non-empty text"
            if len(text.strip()) > self.config.max_text_chars:
                return f"text has {len(text.strip())} characters, over {self.config.max_text_chars}"
        return None

    def run_manager(self, facts: Sequence[Fact], manager: MemoryManager) -> list[Outcome]:
        """Let `manager` process every fact in order (what an env episode does step by step)."""
        outcomes = []
        for step, fact in enumerate(facts):
            visible = self.memories_for_fact(fact)
            outcomes.append(self.apply(manager.decide(fact, visible), fact, visible, step))
        return outcomes

    def answer(
        self, answerer: AnswerAgent, questions: Sequence[Question]
    ) -> list[tuple[Answer, list[RetrievedMemory]]]:
        """The answerer's answers (batched) and the memories each was given."""
        asked = [AskedQuestion.of(q) for q in questions]
        retrieved = [self.memories_for_question(q) for q in asked]
        answers = answerer.answer_batch(list(zip(asked, retrieved, strict=True)))
        return list(zip(answers, retrieved, strict=True))


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
