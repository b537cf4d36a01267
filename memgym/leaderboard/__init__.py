"""The leaderboard: evaluate a manager and an answerer on a split, or score a submission."""

from memgym.leaderboard.config import EvalConfig, LLMSettings
from memgym.leaderboard.report import markdown_table, write_outputs
from memgym.leaderboard.runner import (
    ConfigMismatchError,
    evaluate_conversation,
    run_eval,
    score_submission,
)

__all__ = [
    "ConfigMismatchError",
    "EvalConfig",
    "LLMSettings",
    "evaluate_conversation",
    "markdown_table",
    "run_eval",
    "score_submission",
    "write_outputs",
]
