"""Tokenizer for lexical retrieval: lowercase word characters, English stop words removed."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+")

# Function words carry no topic; dropping them keeps postings short and BM25 focused.
_STOPWORD_TEXT = """a an and are as at be been but by did do does for from had has have he her hers
him his i if in into is it its me my of on or our she so than that the their them then there
these they this to was we were what when where which who why will with you your"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokenize(text: str) -> list[str]:
    """Lowercased word tokens without stop words."""
    return [t for t in _WORD.findall(text.lower()) if t not in STOPWORDS]
