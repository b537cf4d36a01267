"""Progress for logs: one line per finished conversation on stderr, for runs whose stderr is no
terminal (a progress bar there is carriage returns in a file, or nothing until the end)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ConversationLines:
    """`finished(id)` prints `done/total`, the elapsed time and an ETA from the conversations
    this run finished (ones resumed from disk cost nothing and are not counted in the rate)."""

    def __init__(
        self, total: int, already_done: int, enabled: bool, stream: TextIO | None = None
    ) -> None:
        self.total = total
        self.done = already_done
        self.resumed = already_done
        self.enabled = enabled
        self.stream = stream
        self.started = time.perf_counter()

    def finished(self, conversation_id: str) -> None:
        self.done += 1
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        ran = self.done - self.resumed
        eta = elapsed / ran * (self.total - self.done) if ran else 0.0
        print(
            f"memgym: {self.done}/{self.total} conversations ({conversation_id} done), "
            f"{_duration(elapsed)} elapsed, ETA {_duration(eta)}",
            file=self.stream or sys.stderr,
            flush=True,
        )


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
