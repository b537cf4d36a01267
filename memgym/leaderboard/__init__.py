"""The leaderboard: evaluate a manager and an answerer on a split, or score a submission."""

from memgym.leaderboard.config import EvalConfig, JudgeSettings, LLMSettings
from memgym.leaderboard.conversation import evaluate_conversation
from memgym.leaderboard.outdir import ConfigMismatchError, RunFolderError
from memgym.leaderboard.report import markdown_table, write_outputs
from memgym.leaderboard.runner import RunConfigError, run_eval, score_submission

__all__ = [
    "ConfigMismatchError",
    "EvalConfig",
    "JudgeSettings",
    "LLMSettings",
    "RunConfigError",
    "RunFolderError",
    "evaluate_conversation",
    "markdown_table",
    "run_eval",
    "score_submission",
    "write_outputs",
]
