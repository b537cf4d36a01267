"""Cheap, LLM-free rewards on what retrieval surfaced: evidence recall@k and answer support."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from memgym.metrics.lexical import Gold, gold_answers
from memgym.metrics.text import locomo_tokens


def evidence_recall(
    evidence_turn_ids: Iterable[str],
    retrieved_sources: Sequence[Iterable[str]],
    k: int | None = None,
) -> float | None:
    """Share of the question's evidence turns that are a source of one of the top-k memories.

    `retrieved_sources` lists each retrieved memory's source turn ids, best first. None when
    the question has no evidence (recall is undefined, not zero).
    """
    wanted = set(evidence_turn_ids)
    if not wanted:
        return None
    top = retrieved_sources if k is None else retrieved_sources[:k]
    found = wanted.intersection(t for sources in top for t in sources)
    return len(found) / len(wanted)


def support_score(gold: Gold, memory_texts: Iterable[str]) -> float:
    """How much of the gold answer a reader could copy from the memories: the share of its
    comma-separated parts (LoCoMo's multi-answer rule) whose normalised, stemmed tokens all
    appear in one memory. The best gold answer counts; an answer with no tokens scores 0.

    Each part must come from a single memory: words scattered over unrelated memories (or over
    a long memory and a date elsewhere) do not make an answer a reader can give.
    """
    return token_support(gold, [memory_tokens(text) for text in memory_texts])


@lru_cache(maxsize=262144)
def memory_tokens(text: str) -> frozenset[str]:
    """The normalised, stemmed tokens of one memory line (cached: rewards rescore the same
    memories after every step)."""
    return frozenset(locomo_tokens(text))


def token_support(gold: Gold, lines: Sequence[frozenset[str]]) -> float:
    """`support_score` on memory lines already turned into tokens by `memory_tokens`."""

    def one(answer: str) -> float:
        parts = [set(locomo_tokens(p)) for p in answer.split(",")]
        parts = [p for p in parts if p]
        if not parts:
            return 0.0
        return sum(any(p <= line for line in lines) for p in parts) / len(parts)

    return max((one(a) for a in gold_answers(gold)), default=0.0)
