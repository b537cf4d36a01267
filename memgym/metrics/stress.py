"""Wrong answers that a lenient judge may accept, built deterministically from the data.

For each question, three kinds of wrong answer (the public LoCoMo audit measured a common
judge accepting 62.81% of the first kind and 10.61% of the second):

- `vague`: a sentence on the topic taken from the conversation, one that shares no content
  word with the gold answer;
- `specific`: the gold of another question of the same category, sharing no content word
  with this gold;
- `contradiction`: the gold with a changed date, number or name.

A kind that cannot be built for a question (no such sentence, no other gold, nothing to
change) is left out for it and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from memgym.data.schema import Conversation, Question
from memgym.retrieval.tokenizer import STOPWORDS

KINDS = ("vague", "specific", "contradiction")
_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_NUMBER_WORDS = [
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d+\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


@dataclass(frozen=True)
class StressAnswer:
    """A wrong answer of `kind` for a question, and how it was made."""

    question_id: str
    kind: str
    text: str
    how: str


def content_words(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


def vague_answer(question: Question, conversation: Conversation) -> StressAnswer | None:
    """The conversation's sentence of four words or more sharing most content words with the
    question, speakers' names aside (they are in nearly every question), and none with the
    gold (the first such sentence on a tie)."""
    gold = content_words(" ".join(question.answers))
    asked = content_words(question.text) - content_words(" ".join(conversation.speakers))
    best: tuple[int, str, str] | None = None
    for turn in conversation.turns():
        for sentence in _SENTENCE.split(turn.text.strip()):
            words = content_words(sentence)
            if len(_WORD.findall(sentence)) < 4:
                continue
            overlap = len(words & asked)
            if overlap and not words & gold and (best is None or overlap > best[0]):
                best = (overlap, sentence, turn.id)
    if best is None:
        return None
    return StressAnswer(question.id, "vague", best[1], f"sentence of turn {best[2]}")


def specific_answer(question: Question, pool: Sequence[Question]) -> StressAnswer | None:
    """The gold of the next question of the same category in `pool` (wrapping around) that
    shares no content word with this gold."""
    gold = content_words(" ".join(question.answers))
    same = [q for q in pool if q.category == question.category and q.answers]
    if question not in same:
        return None
    start = same.index(question)
    for other in same[start + 1 :] + same[:start]:
        if not content_words(other.answers[0]) & gold:
            return StressAnswer(question.id, "specific", other.answers[0], f"gold of {other.id}")
    return None


def names_of(conversation: Conversation) -> list[str]:
    """Capitalised words of the conversation that are not a sentence's first word, most
    frequent first (ties alphabetical), speakers first: candidate names to swap in."""
    counts: Counter[str] = Counter()
    for turn in conversation.turns():
        for sentence in _SENTENCE.split(turn.text):
            words = _CAPITALISED.findall(sentence)
            if words and sentence.lstrip().startswith(words[0]):
                words = words[1:]  # a sentence's first word is capitalised anyway
            counts.update(w for w in words if w.lower() not in STOPWORDS and w not in _MONTHS)
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    speakers = [s for s in conversation.speakers if s]
    return speakers + [w for w in ranked if w not in speakers]


def contradiction_answer(question: Question, names: Sequence[str]) -> StressAnswer | None:
    """The gold with its first year, month, number or name changed (in that order of
    preference): a year or number plus one, the next month, another name of `names`."""
    if not question.answers:
        return None
    gold = question.answers[0]
    if match := _YEAR.search(gold):
        changed = str(int(match.group()) + 1)
        return _changed(question, gold, match.span(), changed, "year")
    for month in _MONTHS:
        if match := re.search(rf"\b{month}\b", gold):
            following = _MONTHS[(_MONTHS.index(month) + 1) % 12]
            return _changed(question, gold, match.span(), following, "month")
    if match := _NUMBER.search(gold):
        return _changed(question, gold, match.span(), str(int(match.group()) + 1), "number")
    for word in _NUMBER_WORDS:
        if match := re.search(rf"\b{word}\b", gold, re.IGNORECASE):
            following = _NUMBER_WORDS[(_NUMBER_WORDS.index(word.lower()) + 1) % 12]
            return _changed(question, gold, match.span(), following, "number")
    for match in _CAPITALISED.finditer(gold):
        if match.group() in names:
            other = next((n for n in names if n != match.group()), None)
            if other is not None:
                return _changed(question, gold, match.span(), other, "name")
    return None


def _changed(
    question: Question, gold: str, span: tuple[int, int], new: str, what: str
) -> StressAnswer:
    old = gold[span[0] : span[1]]
    return StressAnswer(
        question.id,
        "contradiction",
        gold[: span[0]] + new + gold[span[1] :],
        f"{what} {old} -> {new}",
    )


def stress_answers(
    questions: Sequence[Question], conversations: Sequence[Conversation]
) -> list[StressAnswer]:
    """Every kind of wrong answer that can be built for each question, in question order."""
    by_id = {c.id: c for c in conversations}
    pool = [q for c in conversations for q in c.questions]
    names = {c.id: names_of(c) for c in conversations}
    built: list[StressAnswer] = []
    for question in questions:
        conversation = by_id[question.conversation_id]
        for answer in (
            vague_answer(question, conversation),
            specific_answer(question, pool),
            contradiction_answer(question, names[conversation.id]),
        ):
            if answer is not None:
                built.append(answer)
    return built
