"""Named splits. LoCoMo follows Memory-R1's 1:1:8 split by conversation.

LongMemEval and MSC are evaluation-only in Memory-R1 (zero-shot transfer): every conversation is
in `test`. The bundled LoCoMo-format sample has its own train/val conversations so that examples
can train on one and evaluate on others offline.
"""

from __future__ import annotations

from typing import Literal

SplitName = Literal["all", "train", "val", "test"]
SPLITS: tuple[str, ...] = ("all", "train", "val", "test")

MEMORY_R1_SPLIT: dict[str, str] = {"conv-26": "train", "conv-30": "val"}
SAMPLE_SPLIT: dict[str, str] = {"sample-1": "train", "sample-2": "val"}


def split_of(dataset: str, conversation_id: str) -> str:
    """The split a conversation belongs to (anything not named train/val is test)."""
    if dataset == "locomo":
        return MEMORY_R1_SPLIT.get(conversation_id) or SAMPLE_SPLIT.get(conversation_id, "test")
    return "test"


def in_split(dataset: str, conversation_id: str, split: str) -> bool:
    """Whether the conversation is part of `split` ("all" holds everything)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    return split == "all" or split_of(dataset, conversation_id) == split
