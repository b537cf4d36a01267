"""LLM agents: a memory manager, an answer agent and a fact extractor over any ChatClient.

A failed call never becomes a silent wrong answer: the decision or answer carries `error`, and
the env and the leaderboard record it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memgym.agents.base import Answer, AskedQuestion, BankState, ManagerDecision, RetrievedMemory
from memgym.agents.llm_client import ChatClient, LLMError
from memgym.agents.parsing import (
    json_objects,
    parse_answer_output,
    parse_manager_output,
    read_reply,
)
from memgym.agents.prompts import (
    PromptStyle,
    answer_messages,
    check_prompt_style,
    extractor_messages,
    manager_messages,
    memories_block,
    prompt_hashes,
    question_line,
)
from memgym.data.schema import Conversation, Fact, Session
from memgym.memory.operations import Op
from memgym.metrics.prompt_files import PromptTemplate


def _describe(client: ChatClient) -> dict[str, Any]:
    describe = getattr(client, "describe", None)
    return describe() if callable(describe) else {"model": getattr(client, "model", "?")}


class LLMManager:
    """Asks the model for an operation on each fact: Mem0-style JSON (`llm`), or the compact
    line of the text env's compact style (`llm-compact`, the format
    examples/train_llm_manager.py trains in; ADD/UPDATE store the fact as written)."""

    def __init__(self, client: ChatClient, style: PromptStyle = "json") -> None:
        self.client = client
        self.style = check_prompt_style(style)
        self.name = "llm" if style == "json" else f"llm-{style}"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "client": _describe(self.client),
            "prompts": prompt_hashes(),
            "prompt_style": self.style,
        }

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        return self.decide_batch([(fact, memories)])[0]

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision:
        """The operation, asked with the bank's room in the prompt when it has a capacity."""
        return self._ask([manager_messages(fact, memories, bank, self.style)], [fact])[0]

    def decide_batch(
        self, items: Sequence[tuple[Fact, Sequence[RetrievedMemory]]]
    ) -> list[ManagerDecision]:
        prompts = [manager_messages(f, m, None, self.style) for f, m in items]
        return self._ask(prompts, [f for f, _ in items])

    def _ask(self, prompts: list[list[dict[str, str]]], facts: list[Fact]) -> list[ManagerDecision]:
        replies = self.client.complete_batch(prompts, usable=_readable_operation)
        return [
            ManagerDecision(Op.NOOP, error=f"llm call failed: {reply}", failure=reply.kind)
            if isinstance(reply, LLMError)
            else read_reply(reply, fact, self.style)
            for reply, fact in zip(replies, facts, strict=True)
        ]


def _readable_operation(reply: str) -> bool:
    # An unreadable reply must not be replayed from the cache when the endpoint is healthy.
    return parse_manager_output(reply).error is None


class LLMAnswerer:
    """Asks the model to select memories and answer after `**Answer:**`."""

    name = "llm"

    def __init__(self, client: ChatClient, template: PromptTemplate | None = None) -> None:
        """`template`: a user's answer prompt (`{memories}`, `{question}`; see
        `memgym.metrics.prompt_files`) sent as one user message instead of memgym's."""
        self.client = client
        self.template = template

    def describe(self) -> dict[str, Any]:
        info = {"name": self.name, "client": _describe(self.client), "prompts": prompt_hashes()}
        if self.template is not None:
            info["answer_prompt"] = {"path": self.template.path, "sha256": self.template.sha256}
        return info

    def messages(
        self, question: AskedQuestion, memories: Sequence[RetrievedMemory]
    ) -> list[dict[str, str]]:
        """The prompt for one question: memgym's, or the user's template filled in."""
        if self.template is None:
            return answer_messages(question, memories)
        text = self.template.render(
            memories=memories_block(memories), question=question_line(question)
        )
        return [{"role": "user", "content": text}]

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        return self.answer_batch([(question, memories)])[0]

    def answer_batch(
        self, items: Sequence[tuple[AskedQuestion, Sequence[RetrievedMemory]]]
    ) -> list[Answer]:
        replies = self.client.complete_batch([self.messages(q, m) for q, m in items])
        return [
            Answer("", error=f"llm call failed: {reply}")
            if isinstance(reply, LLMError)
            else parse_answer_output(reply)
            for reply in replies
        ]


class LLMFactExtractor:
    """A FactExtractor (see memgym.facts): the model lists each session's facts as JSON."""

    def __init__(self, client: ChatClient) -> None:
        self.client = client
        self.name = f"llm:{getattr(client, 'model', '?')}"
        self.failures: list[str] = []

    def extract(self, conversation: Conversation, session: Session) -> list[Fact]:
        try:
            reply = self.client.complete(extractor_messages(session))
        except LLMError as exc:
            self.failures.append(f"{conversation.id}/{session.id}: {exc}")
            return []
        turn_ids = {t.id for t in session.turns}
        facts: list[Fact] = []
        for obj in json_objects(reply):
            items = obj.get("facts") if isinstance(obj, dict) else obj
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    continue
                listed = item.get("turn_ids")
                sources = [t for t in listed if t in turn_ids] if isinstance(listed, list) else []
                facts.append(
                    Fact(
                        id=f"{conversation.id}/{session.id}/x{len(facts)}",
                        text=item["text"].strip(),
                        speaker=str(item.get("speaker", "")),
                        session_id=session.id,
                        time=session.time,
                        time_raw=session.time_raw,
                        # Without usable ids the fact is tied to its whole session.
                        source_turn_ids=tuple(sources or [t.id for t in session.turns]),
                    )
                )
            break
        else:
            self.failures.append(f"{conversation.id}/{session.id}: no JSON facts in reply")
        return facts
