"""How a model reads a prompt's tags: NFKC-folded, invisible characters and spaces after `<`
ignored. Planted text must never produce a tag in this reading."""

from __future__ import annotations

import re
import unicodedata

from memgym.agents.base import AskedQuestion, RetrievedMemory
from memgym.agents.prompts import answer_messages, manager_messages
from memgym.data.schema import Fact

_INVISIBLE = {"Cf", "Mn", "Me", "Cc", "Co", "Cn", "Cs"}


def as_read(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    visible = "".join(
        ch for ch in folded if ch == "\n" or unicodedata.category(ch) not in _INVISIBLE
    )
    return re.sub(r"<\s+", "<", visible)


def tag_count(prompt: str, tag: str) -> int:
    return as_read(prompt).count(tag)


def prompts_with(planted: str) -> list[str]:
    """The manager's and the reader's user prompts with `planted` in every data field."""
    memory = RetrievedMemory(0, "m0", planted, planted, None, 1.0)
    fact = Fact(
        id="f",
        text=planted,
        speaker=planted,
        session_id="s",
        time=None,
        time_raw=None,
        source_turn_ids=(),
    )
    question = AskedQuestion("q", planted, None, None, 1)
    return [
        manager_messages(fact, [memory])[1]["content"],
        answer_messages(question, [memory])[1]["content"],
    ]
