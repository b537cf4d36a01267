"""Question category naming: LoCoMo's ids mean something else in Mem0/Memory-R1 tables.

LoCoMo's own meaning (its paper's stats table and scoring code) is the default everywhere;
Mem0's labels, which Memory-R1 reuses for its columns, are a second naming for display only.
"""

from __future__ import annotations

from typing import Literal

Naming = Literal["locomo", "mem0"]

LOCOMO_CATEGORY_NAMES: dict[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
    5: "adversarial",
}

MEM0_CATEGORY_NAMES: dict[int, str] = {
    1: "single-hop",
    2: "temporal",
    3: "multi-hop",
    4: "open-domain",
    5: "adversarial",
}

ADVERSARIAL = 5

LONGMEMEVAL_TYPES: tuple[str, ...] = (
    "single-session-user",
    "single-session-assistant",
    "single-session-preference",
    "temporal-reasoning",
    "knowledge-update",
    "multi-session",
)

MSC_CATEGORY = "dmr"


def category_label(category: int | str, naming: Naming = "locomo") -> str:
    """Display name of a raw category id; string categories (LongMemEval, MSC) name themselves."""
    if isinstance(category, str):
        return category
    table = MEM0_CATEGORY_NAMES if naming == "mem0" else LOCOMO_CATEGORY_NAMES
    return table.get(category, str(category))


_LOCOMO_KEYS = {str(category): category for category in LOCOMO_CATEGORY_NAMES}


def label_of_key(key: str, naming: Naming = "locomo") -> str:
    """Display name of a category key as results files store it (`"1"`, `"multi-session"`):
    LoCoMo's ids are looked up, never parsed as numbers; any other key names itself."""
    return category_label(_LOCOMO_KEYS.get(key, key), naming)


def key_label(key: str, naming: Naming = "locomo") -> str:
    """`1 multi-hop` for a LoCoMo id, the key alone for a named category."""
    label = label_of_key(key, naming)
    return f"{key} {label}" if label != key else key
