"""Untrusted text inside prompts: every data span is delimited, and tag-like text inside it is
neutralised so that a memory, fact, question or answer cannot close its own tags or open new
ones (`</memories>`, `<new_fact>`)."""

from __future__ import annotations

import re
import unicodedata

# "<" and the two characters that NFKC folds to it (small and fullwidth less-than signs).
_OPENERS = re.compile("[<\ufe64\uff1c]")
# Characters a reader skips over: format characters (zero-width space U+200B, soft hyphen
# U+00AD, BOM U+FEFF, word joiner U+2060), combining marks, controls, unassigned code points.
_INVISIBLE = frozenset({"Cf", "Mn", "Me", "Cc", "Co", "Cn", "Cs"})
LOOKALIKE = "\u2039"  # single left-pointing angle quotation mark


def _visible_after(text: str, at: int) -> str:
    """The first character after `at` that a reader sees (spaces and invisible ones skipped)."""
    for i in range(at + 1, len(text)):
        if not (text[i].isspace() or unicodedata.category(text[i]) in _INVISIBLE):
            return text[i]
    return ""


def neutralize(text: str) -> str:
    """`text` with every `<` (or a character NFKC folds to it) that could start a tag replaced by
    a look-alike character: all of them except before a digit or `=` (`<3`, `<= 5`), however
    many spaces or invisible characters stand between (`<\u200b/memories>` is a tag to a
    model)."""
    if _OPENERS.search(text) is None:
        return text
    kept = []
    last = 0
    for match in _OPENERS.finditer(text):
        after = _visible_after(text, match.start())
        if after and (after in "0123456789="):
            continue
        kept.append(text[last : match.start()] + LOOKALIKE)
        last = match.end()
    return "".join(kept) + text[last:]


def delimit(label: str, text: str, attributes: str = "") -> str:
    """`text` between `<label ...>` and `</label>`, neutralised."""
    opening = f"<{label} {attributes}>" if attributes else f"<{label}>"
    return f"{opening}\n{neutralize(text)}\n</{label}>"


def attribute(value: str) -> str:
    """A value for a tag attribute: neutralised, quotes and line breaks removed."""
    cleaned = neutralize(value).replace('"', "'").replace("\n", " ").replace(">", "\u203a")
    return f'"{cleaned}"'
