"""The memory bank: the state of the memory manager's MDP and the answer agent's context."""

from memgym.memory.bank import DEFAULT_NAMESPACE, BankSnapshot, MemoryBank, ScoredEntry
from memgym.memory.operations import HistoryRecord, LogRecord, MemoryEntry, Op
from memgym.memory.persistence import bank_from_dict, bank_to_dict, load_bank, save_bank

__all__ = [
    "DEFAULT_NAMESPACE",
    "BankSnapshot",
    "HistoryRecord",
    "LogRecord",
    "MemoryBank",
    "MemoryEntry",
    "Op",
    "ScoredEntry",
    "bank_from_dict",
    "bank_to_dict",
    "load_bank",
    "save_bank",
]
