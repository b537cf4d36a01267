"""Cheap, LLM-free rewards on what retrieval surfaced: evidence recall@k and answer support."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
    """Share of the gold answer's normalised, stemmed tokens found in the memories' text.

    1.0 means every token of some gold answer is present (the answer is recoverable); the best
    gold answer counts. An answer that normalises to nothing scores 0.
    """
    available = {t for text in memory_texts for t in locomo_tokens(text)}

    def one(answer: str) -> float:
        tokens = set(locomo_tokens(answer))
        return len(tokens & available) / len(tokens) if tokens else 0.0

    return max((one(a) for a in gold_answers(gold)), default=0.0)
