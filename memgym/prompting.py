"""Untrusted text inside prompts: every data span is delimited, and tag-like text inside it is
neutralised so that a memory, fact, question or answer cannot close its own tags or open new
ones (`</memories>`, `<new_fact>`)."""

from __future__ import annotations

import re

_TAG_START = re.compile(r"<(?=\s*/?\s*[A-Za-z_!?])")
LOOKALIKE = "\u2039"  # single left-pointing angle quotation mark


def neutralize(text: str) -> str:
    """`text` with every `<` that could start a tag replaced by a look-alike character."""
    return _TAG_START.sub(LOOKALIKE, text)


def delimit(label: str, text: str, attributes: str = "") -> str:
    """`text` between `<label ...>` and `</label>`, neutralised."""
    opening = f"<{label} {attributes}>" if attributes else f"<{label}>"
    return f"{opening}\n{neutralize(text)}\n</{label}>"


def attribute(value: str) -> str:
    """A value for a tag attribute: neutralised, quotes and line breaks removed."""
    cleaned = neutralize(value).replace('"', "'").replace("\n", " ").replace(">", "\u203a")
    return f'"{cleaned}"'
