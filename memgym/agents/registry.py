"""Agents by name (for configs, the env and the command line) or as `module:callable`."""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from memgym.agents.base import AnswerAgent, MemoryManager
from memgym.agents.capacity import (
    EvictManager,
    EvidenceManager,
    FillManager,
    SalienceManager,
    SupervisedManager,
)
from memgym.agents.llm_agents import LLMAnswerer, LLMManager
from memgym.agents.llm_client import ChatClient
from memgym.agents.offline import (
    AddAllManager,
    ConcatManager,
    ExtractiveAnswerer,
    HeuristicManager,
    HeuristicThresholds,
    NoopManager,
    OracleSupportAnswerer,
    RandomManager,
)
from memgym.agents.policy import PolicyManager
from memgym.config import DEFAULT_MAX_MEMORY_WORDS
from memgym.metrics.prompt_files import PromptTemplate

MANAGERS: tuple[str, ...] = (
    "add_all",
    "noop",
    "heuristic",
    "random",
    "concat",
    "fill",
    "evict",
    "salience",
    "supervised",
    "ppo",
    "evidence",
    "llm",
    "llm-compact",
)
# Managers that read the golds: their runs are ORACLE, never entries.
ORACLE_MANAGERS: tuple[str, ...] = ("evidence",)
ANSWERERS: tuple[str, ...] = ("extractive", "oracle_support", "llm")
DEPRECATED_ANSWERERS: dict[str, str] = {"support": "oracle_support"}
_REQUIRED_METHODS: dict[type, tuple[str, ...]] = {
    MemoryManager: ("name", "decide", "decide_batch"),
    AnswerAgent: ("name", "answer", "answer_batch"),
}


def load_object(spec: str) -> Any:
    """`package.module:attribute` -> the attribute (modules in the current directory are found
    too); a callable (class or factory) is called with no arguments."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected 'module:callable', got {spec!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} for {spec!r}: {exc}") from exc
    if not hasattr(module, attribute):
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
    obj = getattr(module, attribute)
    is_agent = hasattr(obj, "decide") or hasattr(obj, "answer")
    return obj() if isinstance(obj, type) or (callable(obj) and not is_agent) else obj


def make_manager(
    spec: str | MemoryManager,
    client: ChatClient | None = None,
    *,
    max_memory_words: int = DEFAULT_MAX_MEMORY_WORDS,
    seed: int = 0,
    evidence_turn_ids: Collection[str] | None = None,
    policy_file: str | None = None,
) -> MemoryManager:
    """A manager by name (see MANAGERS) or `module:callable`.

    Offline managers that write merges keep them within `max_memory_words`. `evidence` is an
    ORACLE and needs the golds through `evidence_turn_ids` (the evidence turns of the
    conversation it manages); `ppo` runs the shipped policy, or `policy_file`."""
    if not isinstance(spec, str):
        checked: MemoryManager = _checked(spec, MemoryManager, type(spec).__name__)
        return checked
    if spec == "add_all":
        return AddAllManager()
    if spec == "noop":
        return NoopManager()
    if spec == "heuristic":
        return HeuristicManager(HeuristicThresholds(max_merged_words=max_memory_words))
    if spec == "random":
        return RandomManager(seed)
    if spec == "concat":
        return ConcatManager(max_memory_words)
    if spec == "fill":
        return FillManager()
    if spec == "evict":
        return EvictManager()
    if spec == "salience":
        return SalienceManager()
    if spec == "supervised":
        return SupervisedManager()
    if spec == "ppo":
        return PolicyManager(policy_file, max_memory_words)
    if spec == "evidence":
        if evidence_turn_ids is None:
            raise ValueError(
                "the evidence manager is an ORACLE: it needs the golds (evidence_turn_ids)"
            )
        return EvidenceManager(evidence_turn_ids)
    if spec in ("llm", "llm-compact"):
        if client is None:
            raise ValueError(
                f"the {spec} manager needs a model: --base-url and --model, or --model-path"
            )
        return LLMManager(client, "json" if spec == "llm" else "compact")
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
    answer_prompt: PromptTemplate | None = None,
) -> AnswerAgent:
    """An answerer by name (extractive, oracle_support, llm) or `module:callable`.

    `oracle_support` is an oracle reward proxy and needs `gold` (question id -> gold answers);
    `support` is its deprecated name. `answer_prompt` replaces the llm answerer's prompt.
    """
    if not isinstance(spec, str):
        agent: AnswerAgent = _checked(spec, AnswerAgent, type(spec).__name__)
        return agent
    if spec in DEPRECATED_ANSWERERS:
        new = DEPRECATED_ANSWERERS[spec]
        warnings.warn(
            f"memgym: answerer {spec!r} is renamed {new!r}; the old name goes in memgym 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        spec = new
    if answer_prompt is not None and spec != "llm":
        raise ValueError(f"an answer prompt file is the llm answerer's prompt, not {spec!r}'s")
    if spec == "extractive":
        return ExtractiveAnswerer()
    if spec == "oracle_support":
        if gold is None:
            raise ValueError("the oracle_support answerer needs the gold answers of the dataset")
        return OracleSupportAnswerer(gold)
    if spec == "llm":
        if client is None:
            raise ValueError(
                "the llm answerer needs a model: --base-url and --model, or --model-path"
            )
        return LLMAnswerer(client, answer_prompt)
    if ":" in spec:
        answerer: AnswerAgent = _checked(load_object(spec), AnswerAgent, spec)
        return answerer
    raise ValueError(
        f"unknown answerer {spec!r}; expected one of {', '.join(ANSWERERS)} or module:callable"
    )


def _checked(obj: Any, protocol: type, spec: str) -> Any:
    missing = [m for m in _REQUIRED_METHODS[protocol] if not hasattr(obj, m)]
    if missing:
        raise TypeError(
            f"{spec} is not a {protocol.__name__}: it has no {', '.join(missing)} "
            f"(needs {', '.join(_REQUIRED_METHODS[protocol])}; see README 'Bring your own agent')"
        )
    return obj


def is_oracle(agent: Any) -> bool:
    """Whether an agent reads gold answers (its scores are an ORACLE, never a baseline)."""
    return bool(getattr(agent, "oracle", False))


def describe_agent(agent: Any) -> dict[str, Any]:
    """What a result file records about an agent."""
    describe = getattr(agent, "describe", None)
    if callable(describe):
        info = dict(describe())
    else:
        info = {"name": getattr(agent, "name", type(agent).__name__)}
        thresholds = getattr(agent, "thresholds", None)
        if thresholds is not None:
            info["thresholds"] = vars(thresholds)
        max_words = getattr(agent, "max_words", None)
        if max_words is not None:
            info["max_words"] = max_words
    if is_oracle(agent):
        info["oracle"] = True
    return info
