"""Lexical answer metrics: SQuAD exact match, LoCoMo's official F1 rules, Mem0's F1 and BLEU-1.

Every metric returns a float in [0, 1]. `gold` may be a str, an int, or a list of acceptable
answers; with a list the best-scoring answer counts (except where a protocol splits one answer).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

from memgym.metrics.text import locomo_tokens, mem0_tokens, squad_normalize, word_tokens

Gold = str | int | float | Sequence[str | int | float]

LOCOMO_ABSTAIN_PHRASES = ("no information available", "not mentioned")


def gold_answers(gold: Gold) -> list[str]:
    """The gold value as a list of answer strings (ints and floats are cast with str)."""
    if isinstance(gold, (str, int, float)):
        return [str(gold)]
    return [str(g) for g in gold]


def _best(gold: Gold, score: Callable[[str], float]) -> float:
    return max((score(g) for g in gold_answers(gold)), default=0.0)


def exact_match(prediction: str, gold: Gold) -> float:
    """1.0 if the SQuAD-normalised prediction equals a SQuAD-normalised gold answer."""
    pred = squad_normalize(prediction)
    return _best(gold, lambda g: float(pred == squad_normalize(g)))


def _multiset_f1(pred: list[str], gold: list[str]) -> float:
    same = sum((Counter(pred) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def locomo_f1(prediction: str, gold: Gold) -> float:
    """LoCoMo's token F1: normalised, Porter-stemmed, on token multisets."""
    pred = locomo_tokens(prediction)
    return _best(gold, lambda g: _multiset_f1(pred, locomo_tokens(g)))


def locomo_multi_answer_f1(prediction: str, gold: str) -> float:
    """LoCoMo category 1: mean over comma-split gold parts of the best F1 to a predicted part."""
    preds = [locomo_tokens(p.strip()) for p in prediction.split(",")]
    parts = [locomo_tokens(g.strip()) for g in gold.split(",")]
    return sum(max(_multiset_f1(p, g) for p in preds) for g in parts) / len(parts)


def locomo_score(prediction: str, gold: Gold, category: int) -> float:
    """LoCoMo's official per-category rule (1 comma-split F1, 3 gold cut at ';', 5 phrase check)."""
    if category == 5:
        lowered = prediction.lower()
        return float(any(phrase in lowered for phrase in LOCOMO_ABSTAIN_PHRASES))
    if category == 1:
        return _best(gold, lambda g: locomo_multi_answer_f1(prediction, g))
    if category == 3:
        return _best(gold, lambda g: locomo_f1(prediction, g.split(";")[0].strip()))
    return locomo_f1(prediction, gold)


def mem0_f1(prediction: str, gold: Gold) -> float:
    """Mem0's F1 on token sets (lowercase, `. , ! ?` removed, no stemming); 0 if either is empty."""
    pred = set(mem0_tokens(prediction))

    def one(g: str) -> float:
        ref = set(mem0_tokens(g))
        if not pred or not ref:
            return 0.0
        return _multiset_f1(sorted(pred), sorted(ref))

    return _best(gold, one)


def bleu1(prediction: str, gold: Gold) -> float:
    """Mem0's BLEU-1: NLTK sentence_bleu(weights=(1,0,0,0), smoothing method1) on
    `word_tokenize` tokens of the lowercased texts.

    With unigram weight only, smoothing never changes the score: it is the brevity penalty
    times clipped unigram precision, and 0 when no unigram matches.
    """
    hyp = word_tokens(prediction.lower())

    def one(g: str) -> float:
        ref = word_tokens(g.lower())
        matches = sum((Counter(hyp) & Counter(ref)).values())
        if matches == 0:
            return 0.0
        c, r = len(hyp), len(ref)
        brevity = 1.0 if c > r else math.exp(1 - r / c)
        return brevity * matches / c

    return _best(gold, one)
