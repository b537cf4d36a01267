"""Memory integrity: is what the bank holds backed by what it was built from?

The bank keeps each memory's provenance (the facts an ADD or UPDATE wrote from). A memory is
supported when at least SUPPORTED_SHARE of its content words (stemmed, stop words dropped)
come from its source facts: a manager that writes things no fact said (a wrong generalisation,
an injected instruction obeyed) lowers it. A fact is represented when some memory that names it
as a source still holds at least REPRESENTED_SHARE of its content words: a manager that drops
or overwrites information lowers it. An answer can be right from a polluted bank; these two
shares say whether it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from memgym.memory.operations import MemoryEntry
from memgym.metrics.text import content_stems

SUPPORTED_SHARE = 0.8
REPRESENTED_SHARE = 0.5


def memory_supported(entry: MemoryEntry, fact_texts: Mapping[str, str]) -> bool:
    """Whether the memory's content words come from its source facts."""
    words = content_stems(entry.text)
    if not words:
        return True
    sources = set().union(*(content_stems(fact_texts.get(f, "")) for f in entry.source_fact_ids))
    return len(words & sources) / len(words) >= SUPPORTED_SHARE


def fact_represented(fact_id: str, text: str, entries: Iterable[MemoryEntry]) -> bool:
    """Whether a memory built from the fact still holds most of its content words."""
    words = content_stems(text)
    if not words:
        return True
    return any(
        fact_id in e.source_fact_ids
        and len(words & content_stems(e.text)) / len(words) >= REPRESENTED_SHARE
        for e in entries
    )


def bank_integrity(entries: Iterable[MemoryEntry], fact_texts: Mapping[str, str]) -> dict[str, Any]:
    """Counts and shares of supported memories and represented facts for one bank;
    `fact_texts` maps every fact the manager was given (id -> text)."""
    live = list(entries)
    supported = sum(memory_supported(e, fact_texts) for e in live)
    represented = sum(fact_represented(f, t, live) for f, t in fact_texts.items())
    return {
        "memories": len(live),
        "memories_supported": supported,
        "memory_support": supported / len(live) if live else 1.0,
        "facts": len(fact_texts),
        "facts_represented": represented,
        "fact_coverage": represented / len(fact_texts) if fact_texts else 1.0,
    }
