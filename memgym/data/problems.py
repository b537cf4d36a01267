"""Collects every defect found while reading a file, so one run reports them all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from memgym.errors import DatasetError, Problem

T = TypeVar("T")

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    list: "a list",
    dict: "an object",
    float: "a number",
}


def _type_name(types: tuple[type, ...]) -> str:
    return " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)


class ProblemLog:
    """Problems of one source file; `raise_if_any` turns them into one DatasetError."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, record: str | None, field: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, record, field, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise DatasetError(self.problems)

    def require(
        self,
        obj: Mapping[str, Any],
        key: str,
        types: tuple[type, ...],
        record: str | None,
        field: str,
    ) -> Any | None:
        """`obj[key]` if present and of one of `types`, else None with a problem recorded."""
        if key not in obj:
            self.add(record, field, "missing required key")
            return None
        return self.check_type(obj[key], types, record, field)

    def check_type(
        self, value: Any, types: tuple[type, ...], record: str | None, field: str
    ) -> Any | None:
        """`value` if it is one of `types` (bool never counts as int), else None with a problem."""
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            self.add(record, field, f"expected {_type_name(types)}, got {type(value).__name__}")
            return None
        return value
