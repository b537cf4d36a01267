"""Memory capacity: how many tokens each namespace's bank may hold.

A capacity is an int (tokens per bank) or a float f in (0, 1): each bank then holds f times the
tokens of its own namespace's facts (its speaker's, with one bank per speaker), so that
conversations of different lengths are equally tight. Tokens are `memgym.tokens.count_tokens`
of the memory text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from memgym.data.schema import Fact
from memgym.tokens import count_tokens

CapacitySpec = int | float | None


def check_capacity(capacity: object) -> CapacitySpec:
    """`capacity` if it is None, an int >= 1 or a float in (0, 1); ValueError otherwise."""
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, (int, float)):
        raise ValueError(
            f"memory_capacity must be an int (tokens per bank), a float in (0, 1) (a share "
            f"of each speaker's fact tokens) or None, got {type(capacity).__name__}"
        )
    if isinstance(capacity, int):
        if capacity < 1:
            raise ValueError(f"memory_capacity of {capacity} tokens must be >= 1")
        return capacity
    if not 0.0 < capacity < 1.0:
        raise ValueError(f"memory_capacity {capacity!r} as a share must be in (0, 1)")
    return float(capacity)


def parse_capacity(text: str) -> int | float:
    """A capacity written on a command line: whole ASCII digits are tokens, anything else a
    share; ValueError (saying what is valid) when it is neither."""
    stripped = text.strip()
    value: int | float = (
        int(stripped) if stripped.isascii() and stripped.isdigit() else float(stripped)
    )
    checked = check_capacity(value)
    assert checked is not None  # a number is never None
    return checked


@dataclass(frozen=True)
class BankCapacity:
    """The token capacity of every namespace's bank in one conversation."""

    spec: int | float
    shares: Mapping[str, int] = field(default_factory=dict)  # float specs, per namespace

    def of(self, namespace: str) -> int:
        """Tokens the namespace's bank may hold (0 for a namespace with no facts, under a share)."""
        if isinstance(self.spec, int):
            return self.spec
        return self.shares.get(namespace, 0)

    def describe(self) -> dict[str, object]:
        return {"spec": self.spec, "tokens": dict(self.shares) if self.shares else None}


def bank_capacity(
    spec: CapacitySpec, facts: Iterable[Fact], namespace_of: Callable[[Fact], str]
) -> BankCapacity | None:
    """The capacity of each bank for a conversation whose fact stream is `facts` (None when
    unbounded). A share is floored to whole tokens."""
    spec = check_capacity(spec)
    if spec is None:
        return None
    if isinstance(spec, int):
        return BankCapacity(spec)
    totals: dict[str, int] = {}
    for fact in facts:
        namespace = namespace_of(fact)
        totals[namespace] = totals.get(namespace, 0) + count_tokens(fact.text.strip())
    return BankCapacity(spec, {n: int(spec * t) for n, t in totals.items()})


def capacity_key(capacity: Mapping[str, object]) -> dict[str, object]:
    """A configuration without `memory_capacity` when it is None, so that runs configured
    before capacities existed keep their fingerprint."""
    return {k: v for k, v in capacity.items() if not (k == "memory_capacity" and v is None)}
