"""Metrics that match the reference scorers: EM, LoCoMo F1, Mem0 F1 and BLEU-1, LLM judges,
evidence recall and answer support; aggregation and protocol-based scoring."""

from memgym.metrics.aggregate import aggregate
from memgym.metrics.judge import ChatClient, LongMemEvalJudge, Mem0Judge, Verdict, judge_answer
from memgym.metrics.lexical import (
    bleu1,
    exact_match,
    locomo_f1,
    locomo_multi_answer_f1,
    locomo_score,
    mem0_f1,
)
from memgym.metrics.protocols import METRICS, PROTOCOLS, ScoringProtocol, get_protocol
from memgym.metrics.retrieval import evidence_recall, support_score
from memgym.metrics.scoring import read_predictions, score_predictions, score_question

__all__ = [
    "METRICS",
    "PROTOCOLS",
    "ChatClient",
    "LongMemEvalJudge",
    "Mem0Judge",
    "ScoringProtocol",
    "Verdict",
    "aggregate",
    "bleu1",
    "evidence_recall",
    "exact_match",
    "get_protocol",
    "judge_answer",
    "locomo_f1",
    "locomo_multi_answer_f1",
    "locomo_score",
    "mem0_f1",
    "read_predictions",
    "score_predictions",
    "score_question",
    "support_score",
]
