"""Outside values made ordinary where they enter: small integers and valid Unicode text.

Two kinds of legal but unusual input used to reach code that assumed ordinary values:
- digits that `str.isdigit` accepts but `int` refuses (superscripts, circled digits) and digit
  strings longer than Python's integer-string limit. `parse_index` is the one parser for ids
  and slots read from outside text: ASCII digits only, at most `MAX_INDEX_DIGITS` of them.
- lone surrogates (valid JSON escapes such as `\\udcff`), which no UTF-8 encoder, SQLite or
  file write accepts. `valid_text` and `valid_json` replace each with U+FFFD and say where.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

MAX_INDEX_DIGITS = 9
# U+FFFF stands in for a lone surrogate escape in streamed JSON (memgym.data.jsonstream).
_SURROGATE = re.compile("[\ud800-\udfff\uffff]")
REPLACEMENT = "\ufffd"


class TextRepairWarning(UserWarning):
    """Outside text held lone surrogates; they were replaced with U+FFFD."""


def parse_index(value: Any, max_digits: int = MAX_INDEX_DIGITS) -> int | None:
    """A non-negative integer from an int or from ASCII digits (`"2"`, `" [2] "`), else None.

    Never raises: `"²"`, `"①"`, `"-1"`, `"2.0"`, bools and strings of more than `max_digits`
    digits are None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, str):
        match = re.fullmatch(rf"\s*\[?\s*([0-9]{{1,{max_digits}}})\s*\]?\s*", value)
        return int(match.group(1)) if match else None
    return None


def is_ascii_number(text: str) -> bool:
    """Whether `text` is a non-empty run of ASCII digits (never converted: any length is fine)."""
    return text.isascii() and text.isdigit()


def numeric_order(key: str) -> tuple[int, int, str]:
    """A sort key putting ASCII-digit keys first in numeric order, then the rest by name,
    without converting anything (a 5,000-digit key sorts like any other)."""
    if is_ascii_number(key):
        stripped = key.lstrip("0") or "0"
        return (0, len(stripped), stripped)
    return (1, 0, key)


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def valid_text(text: str, where: str = "") -> str:
    """`text` with every lone surrogate replaced by U+FFFD; a TextRepairWarning naming `where`
    (file, record, field) says so. Text without surrogates is returned as it is."""
    if not has_surrogates(text):
        return text
    count = len(_SURROGATE.findall(text))
    if where:
        warnings.warn(
            f"{where}: {count} lone surrogate{'s' if count != 1 else ''} replaced with U+FFFD",
            TextRepairWarning,
            stacklevel=2,
        )
    return _SURROGATE.sub(REPLACEMENT, text)


Report = Callable[[str, int], None]


def valid_json(value: Any, report: Report, path: str = "") -> Any:
    """`value` (parsed JSON, nesting already bounded) with lone surrogates replaced in every
    string and key; `report(field_path, count)` is called once per repaired string."""
    if isinstance(value, str):
        if not has_surrogates(value):
            return value
        report(path or "<root>", len(_SURROGATE.findall(value)))
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, list):
        return [valid_json(item, report, f"{path}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = valid_json(key, report, f"{path}.<key>" if path else "<key>")
            out[name] = valid_json(item, report, f"{path}.{name}" if path else str(name))
        return out
    return value


def warn_report(where: str) -> Report:
    """A `valid_json` report that warns with TextRepairWarning, prefixed by `where`."""

    def report(field: str, count: int) -> None:
        warnings.warn(
            f"{where}: field {field!r}: {count} lone surrogate{'s' if count != 1 else ''} "
            "replaced with U+FFFD",
            TextRepairWarning,
            stacklevel=3,
        )

    return report
