"""Answer normalisations and tokenizers of the reference scorers (SQuAD, LoCoMo, Mem0)."""

from __future__ import annotations

import re
import string
from functools import lru_cache

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_ARTICLES_AND = re.compile(r"\b(a|an|the|and)\b")


def _strip_punctuation(text: str) -> str:
    return "".join(ch for ch in text if ch not in _PUNCTUATION)


def squad_normalize(text: str) -> str:
    """SQuAD: lowercase, drop ASCII punctuation, drop a/an/the, collapse white space."""
    return " ".join(_ARTICLES.sub(" ", _strip_punctuation(text.lower())).split())


def locomo_normalize(text: str) -> str:
    """LoCoMo: drop commas, lowercase, drop punctuation and a/an/the/and, collapse spaces."""
    text = _strip_punctuation(text.replace(",", "").lower())
    return " ".join(_ARTICLES_AND.sub(" ", text).split())


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    from nltk.stem import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=65536)
def porter_stem(token: str) -> str:
    """NLTK's PorterStemmer (default mode), cached: answers repeat the same words a lot."""
    return str(_stemmer().stem(token))


def locomo_tokens(text: str) -> list[str]:
    """LoCoMo-normalised, Porter-stemmed tokens."""
    return list(_locomo_tokens(text))


@lru_cache(maxsize=131072)
def _locomo_tokens(text: str) -> tuple[str, ...]:
    # Rewards re-tokenize the same memory texts for every question: cache them.
    return tuple(porter_stem(t) for t in locomo_normalize(text).split())


def mem0_tokens(text: str) -> list[str]:
    """Mem0's simple tokenizer: lowercase, `. , ! ?` become spaces, split on white space."""
    lowered = str(text).lower()
    for ch in ".,!?":
        lowered = lowered.replace(ch, " ")
    return lowered.split()


@lru_cache(maxsize=1)
def _word_tokenizer():  # type: ignore[no-untyped-def]
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def word_tokens(text: str) -> list[str]:
    """NLTK's word tokenizer without the punkt download (same tokens as word_tokenize for one
    sentence, which is what a short answer is)."""
    return list(_word_tokenizer().tokenize(text))
