"""What decides what an agent sees and may write: one MemoryConfig, recorded in every result.

The env, the leaderboard and every adapter take their limits from here, so a reward and a
leaderboard number mean the same.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from memgym.memory.capacity import CapacitySpec, capacity_key, check_capacity

# Memories stay short, as in Memory-R1. LoCoMo's published observations have 15 words at the
# median and 27 at most (conv-26; 25 on conv-30): 40 words holds the longest observation with a
# merged detail, or two typical facts, but not a glued series of them.
DEFAULT_MAX_MEMORY_WORDS = 40
# Memory-R1's maximum prompt length; the memories fill what the instructions and the question
# leave of it.
DEFAULT_ANSWER_PROMPT_TOKENS = 4096


@dataclass(frozen=True)
class MemoryConfig:
    """Retrieval and writing rules of one conversation's memory.

    observation_k: memories shown with each new fact (of the fact's namespace).
    answer_k: memories retrieved per namespace for a question, or None (the default) for as
        many as fit `answer_prompt_tokens`. Memory-R1 gives its reader 30 per speaker; a count
        cap rewards packing many facts into each memory, a token budget does not.
    namespace_by: "speaker" gives each speaker a bank, as in Mem0/Memory-R1; "none" shares one.
    max_text_chars: longest memory text, in characters.
    max_memory_words: longest text an ADD or UPDATE may write, in words, unless the new fact
        (or, for UPDATE, the memory it rewrites) is longer: storing a long fact verbatim is
        allowed, growing a memory past the limit by gluing facts onto it is not.
    answer_prompt_tokens: the answer agent's prompt budget; retrieved memories are given to it
        best first, alternating between namespaces, while they fit in what the instructions
        and the question leave (counted with all-MiniLM-L6-v2's WordPiece tokenizer).
    memory_capacity: tokens each namespace's bank may hold (an int), or a share f in (0, 1) of
        that namespace's fact tokens; None (the default) is unbounded. An ADD or UPDATE that
        would overflow its bank is refused (`memgym.memory.capacity`).
    """

    retriever: str = "hybrid"
    embedder: str = "minilm"
    dense_index: Literal["exact", "hnsw"] = "exact"
    observation_k: int = 10
    answer_k: int | None = None
    namespace_by: Literal["speaker", "none"] = "speaker"
    max_text_chars: int = 2000
    max_memory_words: int = DEFAULT_MAX_MEMORY_WORDS
    answer_prompt_tokens: int = DEFAULT_ANSWER_PROMPT_TOKENS
    memory_capacity: CapacitySpec = None

    def __post_init__(self) -> None:
        check_capacity(self.memory_capacity)
        if self.observation_k < 1 or (self.answer_k is not None and self.answer_k < 1):
            raise ValueError("observation_k and answer_k must be >= 1")
        if self.max_text_chars < 1 or self.max_memory_words < 1 or self.answer_prompt_tokens < 1:
            raise ValueError(
                "max_text_chars, max_memory_words and answer_prompt_tokens must be >= 1"
            )

    def describe(self) -> dict[str, Any]:
        """The settings; `memory_capacity` only when set (runs without one predate it)."""
        return capacity_key(asdict(self))
