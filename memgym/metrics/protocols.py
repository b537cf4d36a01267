"""Scoring protocols: which metrics, which categories, which judge, under a versioned name.

- ``locomo``: LoCoMo's official scorer (per-category F1 rules, category 5 phrase check) + EM.
- ``mem0``: Mem0's protocol as used in Memory-R1's tables (set F1, BLEU-1, optional judge;
  category 5 skipped).
- ``memory_r1``: ``mem0`` plus exact match, the Memory-R1 training reward.
- ``longmemeval``: LongMemEval's per-type yes/no judge when a client is given; EM and F1 always.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from memgym.data.schema import Question
from memgym.metrics.judge import Judge, LongMemEvalJudge, Mem0Judge, longmemeval_judge_category
from memgym.metrics.lexical import bleu1, exact_match, locomo_f1, locomo_score, mem0_f1

QuestionMetric = Callable[[str, Question], float]


def _locomo_official(prediction: str, question: Question) -> float:
    if isinstance(question.category, int):
        return locomo_score(prediction, list(question.answers), question.category)
    return locomo_f1(prediction, list(question.answers))


def _exact_match(prediction: str, question: Question) -> float:
    return exact_match(prediction, list(question.answers))


def _mem0_f1(prediction: str, question: Question) -> float:
    return mem0_f1(prediction, list(question.answers))


def _bleu1(prediction: str, question: Question) -> float:
    return bleu1(prediction, list(question.answers))


# Module-level functions (not lambdas) so that envs holding them can be pickled.
METRICS: dict[str, QuestionMetric] = {
    "exact_match": _exact_match,
    "locomo_f1": _locomo_official,
    "mem0_f1": _mem0_f1,
    "bleu1": _bleu1,
}


@dataclass(frozen=True)
class ScoringProtocol:
    """A named, versioned recipe for turning predictions into scores."""

    name: str
    version: str
    metrics: tuple[str, ...]
    skip_categories: frozenset[int | str] = field(default_factory=frozenset)
    judge: Judge | None = None

    def judge_category(self, question: Question) -> int | str:
        """The category the judge's prompt is chosen by."""
        if isinstance(self.judge, LongMemEvalJudge) and isinstance(question.category, str):
            return longmemeval_judge_category(question.category, question.abstention)
        return question.category

    def describe(self) -> dict[str, object]:
        """What a result file records about the protocol."""
        return {
            "name": self.name,
            "version": self.version,
            "metrics": list(self.metrics),
            "skip_categories": sorted(map(str, self.skip_categories)),
            "judge": None if self.judge is None else self.judge.describe(),
        }


PROTOCOLS: dict[str, ScoringProtocol] = {
    "locomo": ScoringProtocol("locomo", "1", ("locomo_f1", "exact_match")),
    "mem0": ScoringProtocol("mem0", "1", ("mem0_f1", "bleu1"), frozenset({5}), Mem0Judge()),
    "memory_r1": ScoringProtocol(
        "memory_r1", "1", ("exact_match", "mem0_f1", "bleu1"), frozenset({5}), Mem0Judge()
    ),
    "longmemeval": ScoringProtocol(
        "longmemeval", "1", ("exact_match", "mem0_f1"), frozenset(), LongMemEvalJudge()
    ),
}


def get_protocol(name: str) -> ScoringProtocol:
    """The protocol called `name`; raises ValueError listing the known ones."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def evaluation_protocol(name: str) -> ScoringProtocol:
    """The protocol `name` with every lexical metric (they are cheap; tables show them all)."""
    return dataclasses.replace(get_protocol(name), metrics=tuple(METRICS))


def judges_for(protocol: ScoringProtocol, criteria: Sequence[str]) -> dict[str, Judge]:
    """The judges to run, by score name: the protocol's judge as `judge` and, for Mem0's
    judge, its strict variant as `judge_strict` (when "strict" is in `criteria`)."""
    if protocol.judge is None or not criteria:
        return {}
    if not isinstance(protocol.judge, Mem0Judge):
        return {"judge": protocol.judge}
    judges: dict[str, Judge] = {}
    if "lenient" in criteria:
        judges["judge"] = Mem0Judge("lenient")
    if "strict" in criteria:
        judges["judge_strict"] = Mem0Judge("strict")
    return judges
