"""Collects every defect found while reading a file, so one run reports them all.

Record-level defects are warnings: the loader keeps what is usable (a record, or the parts of
it that parse) and says what it did. File-level defects (unreadable JSON, unknown layout) are
errors. `strict` turns every warning into an error.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from typing import Any

from memgym.errors import DatasetError, Problem, Severity
from memgym.textsafe import valid_json

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    list: "a list",
    dict: "an object",
    float: "a number",
}

_PREVIEW = reprlib.Repr()
_PREVIEW.maxstring = 80
_PREVIEW.maxother = 80
_PREVIEW.maxlevel = 3


def preview(value: Any) -> str:
    """A short repr of untrusted data: bounded length and depth (never recurses deeply)."""
    return _PREVIEW.repr(value)


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


class ProblemLog:
    """Problems of one source file; `raise_if_any` turns errors (or, strict, any) into one
    DatasetError."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(
        self, record: str | None, field: str | None, message: str, severity: Severity = "warning"
    ) -> None:
        self.problems.append(Problem(self.file, record, field, message, severity))

    def fail(self, record: str | None, field: str | None, message: str) -> None:
        """A defect that stops the whole file from loading."""
        self.add(record, field, message, "error")

    def valid(self, raw: Any, record: str | None) -> Any:
        """`raw` (one parsed record) with every lone surrogate replaced by U+FFFD, each repaired
        field a warning: text must encode as UTF-8 wherever it goes next."""

        def report(field: str, count: int) -> None:
            self.add(record, field, f"{count} lone surrogate(s) replaced with U+FFFD")

        return valid_json(raw, report)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_any(self, strict: bool = False) -> None:
        """Raise DatasetError if there is an error (or, when strict, any problem)."""
        if self.errors or (strict and self.problems):
            raise DatasetError(self.problems)

    def require(
        self,
        obj: Mapping[str, Any],
        key: str,
        types: tuple[type, ...],
        record: str | None,
        field: str,
        then: str = "",
    ) -> Any | None:
        """`obj[key]` if present and of one of `types`, else None with a warning saying `then`
        (what the loader does about it)."""
        if key not in obj:
            self.add(record, field, _then("missing required key", then))
            return None
        return self.check_type(obj[key], types, record, field, then)

    def check_type(
        self,
        value: Any,
        types: tuple[type, ...],
        record: str | None,
        field: str,
        then: str = "",
    ) -> Any | None:
        """`value` if it is one of `types` (bool never counts as int), else None with a warning."""
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            got = type(value).__name__
            self.add(record, field, _then(f"expected {_type_name(types)}, got {got}", then))
            return None
        return value


def _then(message: str, then: str) -> str:
    return f"{message}; {then}" if then else message
