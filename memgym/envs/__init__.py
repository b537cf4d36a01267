"""The Gymnasium environments: MemoryManagerEnv-v0 and AnswerAgentEnv-v0."""

from memgym.envs.answer_agent import AnswerAgentEnv
from memgym.envs.memory_manager import InvalidActionError, MemoryManagerEnv, action_from_decision

__all__ = ["AnswerAgentEnv", "InvalidActionError", "MemoryManagerEnv", "action_from_decision"]
