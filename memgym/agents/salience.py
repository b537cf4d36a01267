"""What a turn is worth keeping, judged from its text alone: the signals a rule can read
without gold answers, and the hand-weighted score the `salience` manager keeps turns by.

The signals are the ones a person skimming a chat for facts would use: length and content
words, numbers and dates, names, whether it is a question or a first-person statement, a shared
photo, and whether the shown memories already say it. The weights are set by hand, not fitted:
learned managers (`supervised`, `ppo`) are measured against this rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

from memgym.metrics.text import content_stems, overlap

SIGNALS: tuple[str, ...] = (
    "words",
    "content_words",
    "digits",
    "time_words",
    "names",
    "question",
    "first_person",
    "photo",
    "small_talk",
)

_TIME = re.compile(
    r"\b(yesterday|today|tonight|tomorrow|last (?:week|weekend|month|year|night|summer|winter|"
    r"spring|fall)|next (?:week|weekend|month|year)|ago|since|weeks?|months?|years?|monday|"
    r"tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|"
    r"july|august|september|october|november|december|birthday|anniversary)\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i'll|my|we|we're|we've|our|me)\b", re.I)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")
# Words after which a capitalised word is a greeting's addressee, not a new name.
_ADDRESS = re.compile(r"\b(hey|hi|hello|thanks|thank you|bye|wow|yeah|yes|congrats|oh)\b\W*$", re.I)
_QUESTION_SENTENCE = re.compile(r"[^.!?]*\?")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")

# Hand-set weights of the salience score (score units); see module docstring.
WEIGHTS: dict[str, float] = {
    "words": 1.0,
    "content_words": 1.0,
    "digits": 0.6,
    "time_words": 0.5,
    "names": 0.7,
    "question": -0.8,
    "first_person": 0.3,
    "photo": 0.3,
    "small_talk": -0.8,
}
REDUNDANT = 0.6  # overlap with a shown memory at which a turn adds little
REDUNDANCY_PENALTY = 1.0


@lru_cache(maxsize=65536)
def text_signals(text: str, speaker: str = "") -> tuple[float, ...]:
    """The values of SIGNALS for one text, each in [0, 1]."""
    words = text.split()
    content = content_stems(text)
    names = [
        m.group(1)
        for m in _CAPITALISED.finditer(text)
        if m.group(1) not in ("I", speaker) and not _ADDRESS.search(text[: m.start()])
    ]
    sentences = [s for s in _SENTENCE.findall(text) if s.strip()] or [text]
    questions = len(_QUESTION_SENTENCE.findall(text))
    values = {
        "words": min(math.log1p(len(words)) / math.log(50.0), 1.2),
        "content_words": min(len(content) / 12.0, 1.0),
        "digits": 1.0 if any(ch.isdigit() for ch in text) else 0.0,
        "time_words": 1.0 if _TIME.search(text) else 0.0,
        "names": min(len(names) / 2.0, 1.0),
        "question": min(questions / len(sentences), 1.0),
        "first_person": 1.0 if _FIRST_PERSON.search(text) else 0.0,
        "photo": 1.0 if "[shares a photo" in text else 0.0,
        "small_talk": 1.0 if len(content) <= 3 else 0.0,
    }
    return tuple(values[name] for name in SIGNALS)


def redundancy(text: str, memories: Sequence[str]) -> float:
    """The largest overlap of `text`'s content words with one of `memories` (0 when none)."""
    words = content_stems(text)
    return max((overlap(words, content_stems(m)) for m in memories), default=0.0)


def salience_score(text: str, speaker: str = "", memories: Sequence[str] = ()) -> float:
    """The hand-weighted worth of keeping `text`, less a penalty when a shown memory already
    says most of it."""
    score = sum(WEIGHTS[n] * v for n, v in zip(SIGNALS, text_signals(text, speaker), strict=True))
    if memories and redundancy(text, memories) >= REDUNDANT:
        score -= REDUNDANCY_PENALTY
    return score
