"""Error types shared across memgym."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Severity = Literal["warning", "error"]


@dataclass(frozen=True)
class Problem:
    """One defect in an input file: where it is (file, record, field), what is wrong and what the
    loader did about it. A `warning` left the rest usable; an `error` stopped the load."""

    file: str
    record: str | None
    field: str | None
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.record is not None:
            where.append(f"record {self.record}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        return f"{': '.join(where)}: {self.message}"


class DatasetError(ValueError):
    """A dataset that cannot be loaded; holds every problem found, the first in its message."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("DatasetError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        first = next((p for p in self.problems if p.severity == "error"), self.problems[0])
        self.file, self.record, self.field = first.file, first.record, first.field
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{first}{suffix}")


class MemoryBankError(ValueError):
    """An invalid memory operation (unknown id, empty or oversized text, bad namespace)."""
