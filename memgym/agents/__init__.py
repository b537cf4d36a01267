"""Agents: offline baselines, LLM backends (OpenAI-compatible, transformers), Memory-R1-style
LLM agents with robust output parsing."""

from memgym.agents.base import (
    Answer,
    AnswerAgent,
    AskedQuestion,
    ManagerDecision,
    MemoryManager,
    RetrievedMemory,
)
from memgym.agents.llm_agents import LLMAnswerer, LLMFactExtractor, LLMManager
from memgym.agents.llm_client import ChatClient, LLMError, OpenAICompatibleClient
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
from memgym.agents.parsing import parse_answer_output, parse_manager_output
from memgym.agents.registry import ANSWERERS, MANAGERS, describe_agent, make_answerer, make_manager
from memgym.agents.response_cache import ResponseCache
from memgym.agents.transformers_client import TransformersClient

__all__ = [
    "ANSWERERS",
    "MANAGERS",
    "AddAllManager",
    "Answer",
    "AnswerAgent",
    "AskedQuestion",
    "ChatClient",
    "ConcatManager",
    "ExtractiveAnswerer",
    "HeuristicManager",
    "HeuristicThresholds",
    "LLMAnswerer",
    "LLMError",
    "LLMFactExtractor",
    "LLMManager",
    "ManagerDecision",
    "MemoryManager",
    "NoopManager",
    "OpenAICompatibleClient",
    "OracleSupportAnswerer",
    "RandomManager",
    "ResponseCache",
    "RetrievedMemory",
    "TransformersClient",
    "describe_agent",
    "make_answerer",
    "make_manager",
    "parse_answer_output",
    "parse_manager_output",
]
