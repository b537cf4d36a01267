"""Datasets: LoCoMo, LongMemEval and MSC loaded into one typed schema."""

from memgym.data.categories import category_label
from memgym.data.loading import (
    DATASETS,
    detect_layout,
    iter_conversations,
    load_dataset,
    sample_path,
    validate,
)
from memgym.data.schema import Conversation, Dataset, Fact, Question, Session, Turn
from memgym.data.stats import dataset_stats

__all__ = [
    "DATASETS",
    "Conversation",
    "Dataset",
    "Fact",
    "Question",
    "Session",
    "Turn",
    "category_label",
    "dataset_stats",
    "detect_layout",
    "iter_conversations",
    "load_dataset",
    "sample_path",
    "validate",
]
