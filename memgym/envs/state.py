"""MemoryManagerEnv's continuation state as JSON, validated whole before anything is touched.

`read_state` checks every field of a `get_state()` document against the env that will load it
and returns the parts ready to install; a bad state raises ValueError naming the field and
leaves the env exactly as it was.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memgym.errors import MemoryBankError
from memgym.memory.bank import MemoryBank
from memgym.memory.operations import Op
from memgym.memory.persistence import bank_from_dict

STATE_VERSION = 2


def _zero_counts() -> dict[str, int]:
    return {op.name: 0 for op in Op}


@dataclass
class Progress:
    """Where an episode is: the next fact, operations applied, invalid actions, last step."""

    cursor: int = 0
    op_counts: dict[str, int] = field(default_factory=_zero_counts)
    invalid_count: int = 0
    last: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "op_counts": dict(self.op_counts),
            "invalid_count": self.invalid_count,
            "last": dict(self.last),
        }

    def copy(self) -> Progress:
        return Progress(self.cursor, dict(self.op_counts), self.invalid_count, dict(self.last))


@dataclass(frozen=True)
class LoadedState:
    episode_index: int
    bank: MemoryBank  # validated, not indexed
    rng_state: dict[str, Any]
    potential: float
    boundary_potential: float
    progress: Progress


def jsonable_rng(state: Any) -> dict[str, Any]:
    """numpy's bit-generator state with numpy integers as Python ints."""
    return {
        k: (jsonable_rng(v) if isinstance(v, dict) else int(v) if isinstance(v, np.integer) else v)
        for k, v in state.items()
    }


def read_state(
    state: Any,
    *,
    episode_kind: str,
    n_episodes: int,
    conversation_of: Any,
    n_facts_of: Any,
    bit_generator: type[np.random.BitGenerator],
    memory_capacity: int | float | None = None,
) -> LoadedState:
    """Validate `state` for an env with these properties; ValueError names the bad field.

    `conversation_of(i)` and `n_facts_of(i)` give episode i's conversation id and fact count;
    a state carries the env's `memory_capacity` (left out when None).
    """
    if not isinstance(state, dict):
        raise ValueError(f"state must be a dict, got {type(state).__name__}")
    if state.get("version") != STATE_VERSION:
        raise ValueError(f"field 'version' is {state.get('version')!r}; expected {STATE_VERSION}")
    if state.get("episode_kind") != episode_kind:
        raise ValueError(
            f"field 'episode_kind' is {state.get('episode_kind')!r}; this env has {episode_kind!r}"
        )
    if state.get("memory_capacity") != memory_capacity:
        raise ValueError(
            f"field 'memory_capacity' is {state.get('memory_capacity')!r}; this env has "
            f"{memory_capacity!r}"
        )
    index = _int(state, "episode_index", 0, n_episodes - 1)
    if state.get("conversation_id") != conversation_of(index):
        raise ValueError(
            "field 'conversation_id' does not match episode "
            f"{index} ({conversation_of(index)!r}): the state belongs to another dataset or split"
        )
    cursor = _int(state, "cursor", 0, n_facts_of(index))
    try:  # validated without a retriever: indexing waits until the state is installed
        bank = bank_from_dict(state.get("bank"), None, None)
    except (MemoryBankError, ValueError, TypeError) as exc:
        raise ValueError(f"field 'bank': {exc}") from exc
    rng_state: Any = state.get("rng")
    try:
        probe = bit_generator()
        probe.state = rng_state
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise ValueError(f"field 'rng': not a {bit_generator.__name__} state ({exc})") from exc
    counts: Any = state.get("op_counts")
    if not isinstance(counts, dict) or set(counts) != {op.name for op in Op}:
        raise ValueError(f"field 'op_counts' must map {', '.join(op.name for op in Op)} to counts")
    for name in counts:
        _int(counts, name, 0, None, f"op_counts.{name}")
    last: Any = state.get("last")
    if not isinstance(last, dict):
        raise ValueError("field 'last' must be a dict")
    return LoadedState(
        episode_index=index,
        bank=bank,
        rng_state=rng_state,
        potential=_finite(state, "potential"),
        boundary_potential=_finite(state, "boundary_potential"),
        progress=Progress(cursor, dict(counts), _int(state, "invalid_count", 0, None), dict(last)),
    )


def _int(obj: dict[str, Any], key: str, low: int, high: int | None, field: str = "") -> int:
    value = obj.get(key)
    name = field or key
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"field {name!r} must be an integer, got {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"field {name!r} is {value}, outside {bound}")
    return value


def _finite(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"field {key!r} must be a finite number, got {value!r}")
    return float(value)


def copy_rng(generator: np.random.Generator) -> np.random.Generator:
    """An independent generator in the same state."""
    twin = np.random.Generator(type(generator.bit_generator)())
    twin.bit_generator.state = generator.bit_generator.state
    return twin


class Continuable:
    """fork() and pickling for envs that can write their whole state as JSON (`get_state`) and
    continue from it (`set_state`). Worker processes receive configuration and that state, and
    rebuild live indexes and models lazily (`_transient` names what is not pickled)."""

    np_random: np.random.Generator
    _np_random: np.random.Generator | None

    def get_state(self) -> dict[str, Any]:
        raise NotImplementedError

    def set_state(self, state: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _started(self) -> bool:
        raise NotImplementedError

    def _fork_into(self, twin: Any) -> None:
        """Give `twin` its own copies of this episode's mutable parts."""
        raise NotImplementedError

    def _transient(self) -> dict[str, Any]:
        """Attribute values a pickled copy starts from (live indexes, models, caches)."""
        return {}

    def fork(self) -> Any:
        """An independent env at exactly this state, cheaply (copied in memory)."""
        if not self._started():
            raise RuntimeError("call reset() before fork()")
        twin = copy.copy(self)
        self._fork_into(twin)
        twin._np_random = copy_rng(self.np_random)
        return twin

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_pending"] = self.get_state() if self._started() else None
        state.update(self._transient())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pending = state.pop("_pending", None)
        self.__dict__.update(state)
        if pending is not None:
            self.set_state(pending)
