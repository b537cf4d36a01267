"""Rebuild agent-side records from an env observation (what the wrappers render or featurise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memgym.agents.base import AskedQuestion, BankState, RetrievedMemory
from memgym.data.schema import Fact


def _time(value: str) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def memories_of(observation: dict[str, Any]) -> list[RetrievedMemory]:
    """The filled memory slots of an observation, in slot order."""
    slots = observation["memories"]
    return [
        RetrievedMemory(i, f"slot{i}", text, speaker, _time(time), 0.0)
        for i, (text, speaker, time, filled) in enumerate(
            zip(slots["texts"], slots["speakers"], slots["times"], slots["mask"], strict=True)
        )
        if filled
    ]


def fact_of(observation: dict[str, Any]) -> Fact:
    """The new fact of a MemoryManagerEnv observation."""
    return Fact(
        id="observed",
        text=observation["fact"],
        speaker=observation["speaker"],
        session_id="",
        time=_time(observation["time"]),
        time_raw=None,
        source_turn_ids=(),
    )


def question_of(observation: dict[str, Any], category: int | str = 0) -> AskedQuestion:
    """The question of an AnswerAgentEnv observation."""
    return AskedQuestion(
        "observed", observation["question"], _time(observation["time"]), None, category
    )


def bank_of(observation: dict[str, Any]) -> BankState | None:
    """The state of the new fact's bank in a MemoryManagerEnv observation (None when the env
    has no capacity)."""
    bank = observation.get("bank")
    if bank is None:
        return None
    return BankState(
        namespace=observation["speaker"],
        memories=int(bank["memories"]),
        tokens_used=int(bank["tokens"]),
        capacity=int(bank["capacity"]),
        step=int(bank["position"]),
        n_facts=int(bank["facts"]),
    )
