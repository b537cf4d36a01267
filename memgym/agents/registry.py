"""Agents by name (for configs, the env and the command line) or as `module:callable`."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from memgym.agents.base import AnswerAgent, MemoryManager
from memgym.agents.llm_agents import LLMAnswerer, LLMManager
from memgym.agents.llm_client import ChatClient
from memgym.agents.offline import (
    AddAllManager,
    ExtractiveAnswerer,
    HeuristicManager,
    NoopManager,
    SupportAnswerer,
)

MANAGERS: tuple[str, ...] = ("add_all", "noop", "heuristic", "llm")
ANSWERERS: tuple[str, ...] = ("extractive", "support", "llm")


def load_object(spec: str) -> Any:
    """`package.module:attribute` -> the attribute; a callable (class or factory) is called."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:callable', got {spec!r}")
    obj = getattr(importlib.import_module(module_name), attribute)
    return obj() if callable(obj) else obj


def make_manager(spec: str | MemoryManager, client: ChatClient | None = None) -> MemoryManager:
    """A manager by name (add_all, noop, heuristic, llm) or `module:callable`."""
    if not isinstance(spec, str):
        return spec
    if spec == "add_all":
        return AddAllManager()
    if spec == "noop":
        return NoopManager()
    if spec == "heuristic":
        return HeuristicManager()
    if spec == "llm":
        if client is None:
            raise ValueError("the llm manager needs a client (e.g. --base-url and --model)")
        return LLMManager(client)
    if ":" in spec:
        manager: MemoryManager = _checked(load_object(spec), MemoryManager, spec)
        return manager
    raise ValueError(
        f"unknown manager {spec!r}; expected one of {', '.join(MANAGERS)} or module:callable"
    )


def make_answerer(
    spec: str | AnswerAgent,
    gold: Mapping[str, Sequence[str]] | None = None,
    client: ChatClient | None = None,
) -> AnswerAgent:
    """An answerer by name (extractive, support, llm) or `module:callable`.

    `support` is an oracle reward proxy and needs `gold` (question id -> gold answers).
    """
    if not isinstance(spec, str):
        return spec
    if spec == "extractive":
        return ExtractiveAnswerer()
    if spec == "support":
        if gold is None:
            raise ValueError("the support oracle needs the gold answers of the dataset")
        return SupportAnswerer(gold)
    if spec == "llm":
        if client is None:
            raise ValueError("the llm answerer needs a client (e.g. --base-url and --model)")
        return LLMAnswerer(client)
    if ":" in spec:
        answerer: AnswerAgent = _checked(load_object(spec), AnswerAgent, spec)
        return answerer
    raise ValueError(
        f"unknown answerer {spec!r}; expected one of {', '.join(ANSWERERS)} or module:callable"
    )


def _checked(obj: Any, protocol: type, spec: str) -> Any:
    if not isinstance(obj, protocol):
        raise TypeError(f"{spec} does not implement {protocol.__name__}")
    return obj


def describe_agent(agent: Any) -> dict[str, Any]:
    """What a result file records about an agent."""
    describe = getattr(agent, "describe", None)
    if callable(describe):
        return dict(describe())
    info: dict[str, Any] = {"name": getattr(agent, "name", type(agent).__name__)}
    if getattr(agent, "oracle", False):
        info["oracle"] = True
    thresholds = getattr(agent, "thresholds", None)
    if thresholds is not None:
        info["thresholds"] = vars(thresholds)
    return info
