"""The Gymnasium environments: MemoryManagerEnv-v0 and AnswerAgentEnv-v0.

Modules by concern: `episodes` (what an episode walks, Memory-R1's training tuples), `banks`
(the bank an episode starts from), `rewards` (schedules and the cached reader), `reader` (the
reward's answer agent), `state` (JSON continuation state, fork, pickling), `render`, `spaces`;
action decoding and validation live in `memgym.actions`.
"""

from memgym.envs.answer_agent import AnswerAgentEnv
from memgym.envs.common import InvalidActionError
from memgym.envs.memory_manager import MemoryManagerEnv

__all__ = ["AnswerAgentEnv", "InvalidActionError", "MemoryManagerEnv"]
