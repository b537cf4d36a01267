"""Spaces for text observations and actions.

Gymnasium's `Text` only contains strings made of its charset (alphanumeric by default), and real
dialogue is not. `UnicodeText` contains every string within its length bounds, whatever its
characters; it samples from a wide printable charset. Vector envs must use
`shared_memory=False` with it, as with any text space.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from gymnasium import spaces

SAMPLE_CHARSET = frozenset(
    string.ascii_letters + string.digits + string.punctuation + " " + "éèàçüöäñß’‘“”—–…€£"
)


class UnicodeText(spaces.Text):
    """A Text space whose `contains` accepts any str of length in [min_length, max_length]."""

    def __init__(self, max_length: int, *, min_length: int = 0, seed: int | None = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"

    def __eq__(self, other: Any) -> bool:
        return (
            isinstance(other, UnicodeText)
            and self.min_length == other.min_length
            and self.max_length == other.max_length
        )

    def __hash__(self) -> int:
        return hash((UnicodeText, self.min_length, self.max_length))


_COUNT_MAX = np.iinfo(np.int64).max


def memory_slots_space(k: int, max_chars: int, sizes: bool = False) -> spaces.Dict:
    """k memory slots: texts, speakers, dates ("" when empty) and a mask of filled slots; with
    `sizes`, each slot's size in tokens (0 when empty)."""
    slots: dict[str, spaces.Space[Any]] = {
        "texts": spaces.Tuple([UnicodeText(max_chars) for _ in range(k)]),
        "speakers": spaces.Tuple([UnicodeText(256) for _ in range(k)]),
        "times": spaces.Tuple([UnicodeText(64) for _ in range(k)]),
        "mask": spaces.MultiBinary(k),
    }
    if sizes:
        slots["tokens"] = spaces.Box(0, _COUNT_MAX, shape=(k,), dtype=np.int64)
    return spaces.Dict(slots)


MAX_FACT_CHARS = 100_000


BANK_KEYS = ("memories", "tokens", "capacity", "free", "position", "facts")


def bank_space() -> spaces.Dict:
    """The state of the new fact's bank under a capacity: memories, tokens used, capacity,
    tokens free, and the fact's position among the conversation's facts."""
    counter = spaces.Box(0, _COUNT_MAX, shape=(), dtype=np.int64)
    return spaces.Dict({key: counter for key in BANK_KEYS})


def manager_spaces(
    k: int, max_chars: int, capacity: bool = False
) -> tuple[spaces.Dict, spaces.Dict]:
    """MemoryManagerEnv's observation space (the new fact, counters and k memory slots; with a
    `capacity`, the bank's state and each slot's size too) and action space (operation,
    target slot, text)."""
    counter = spaces.Box(0, _COUNT_MAX, shape=(), dtype=np.int64)
    parts: dict[str, spaces.Space[Any]] = {
        "fact": UnicodeText(MAX_FACT_CHARS),
        "speaker": UnicodeText(256),
        "time": UnicodeText(64),
        "step": counter,
        "remaining": counter,
        "memories": memory_slots_space(k, max_chars, sizes=capacity),
    }
    if capacity:
        parts["bank"] = bank_space()
    observation = spaces.Dict(parts)
    action = spaces.Dict(
        {"op": spaces.Discrete(4), "target": spaces.Discrete(k), "text": UnicodeText(max_chars)}
    )
    return observation, action
