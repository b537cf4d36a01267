"""One conversation of an evaluation: build the bank with the manager, answer with the reader,
score, and measure what it cost. A pure function of (config, conversation): any worker, local
or on a Ray cluster, gives the same result."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from memgym.agents.answer_cache import CachingAnswerer, shared_answer_cache
from memgym.agents.base import AnswerAgent, AskedQuestion, MemoryManager
from memgym.agents.clients import make_client
from memgym.agents.context import prompt_overhead
from memgym.agents.llm_client import ChatClient
from memgym.agents.prompts import memory_line
from memgym.agents.registry import describe_agent, make_answerer, make_manager
from memgym.data.schema import Conversation, Question
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.facts import default_fact_source, fact_stream
from memgym.injection import injection_outcome, plant
from memgym.leaderboard.config import EvalConfig
from memgym.memory.operations import Op
from memgym.metrics.integrity import bank_integrity
from memgym.metrics.prompt_files import load_answer_prompt
from memgym.metrics.protocols import ScoringProtocol, evaluation_protocol, judges_for
from memgym.metrics.retrieval import evidence_recall
from memgym.metrics.scoring import score_question
from memgym.tokens import count_tokens

Progress = Callable[[str, int], None]
ANSWER_CHUNK = 16  # questions per reader batch: progress moves while a long conversation runs


@dataclass
class Agents:
    """The run's agents and the clients behind them (None for offline agents)."""

    manager: MemoryManager
    answerer: CachingAnswerer
    client: ChatClient | None
    judge_client: ChatClient | None


def make_agents(
    config: EvalConfig,
    gold: dict[str, list[str]],
    llm_cache: str | None = None,
    evidence_turn_ids: frozenset[str] = frozenset(),
) -> Agents:
    """The manager, the (cached) answerer and the judge's own client of `config`. Only an
    ORACLE manager (`evidence`) reads `evidence_turn_ids`, the conversation's gold evidence."""
    client = None if config.llm is None else make_client(config.llm.client_spec(llm_cache))
    manager = make_manager(
        config.manager,
        client,
        max_memory_words=config.memory.max_memory_words,
        seed=config.seed,
        evidence_turn_ids=evidence_turn_ids,
        policy_file=config.policy_file,
    )
    template = None if config.answer_prompt is None else load_answer_prompt(config.answer_prompt)
    inner: AnswerAgent = make_answerer(config.answerer, gold, client, template)
    answerer = CachingAnswerer(
        inner, shared_answer_cache(), {"answerer": describe_agent(inner), "gold": sorted(gold)}
    )
    judge_client: ChatClient | None = None
    if config.judge is not None:
        if config.judge.same_as_answerer:
            judge_client = client
        elif config.judge.llm is not None:
            judge_client = make_client(config.judge.llm.client_spec(llm_cache))
    return Agents(manager, answerer, client, judge_client)


def evaluate_conversation(
    config: EvalConfig,
    conversation: Conversation,
    llm_cache: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Everything the run records about one conversation (see the module docstring)."""
    started = time.perf_counter()
    tick = progress or (lambda phase, n: None)
    protocol = evaluation_protocol(config.protocol)
    questions = [q for q in conversation.questions if q.category not in protocol.skip_categories]
    dataset_name = "locomo" if config.dataset == "sample" else config.dataset
    stream = fact_stream(conversation, config.fact_source or default_fact_source(dataset_name))  # type: ignore[arg-type]
    facts = stream
    injected = plant(conversation, facts, config.inject, config.seed) if config.inject else None
    if injected is not None:
        facts = list(injected.facts)
    probes = list(injected.probes) if injected is not None else []
    gold = {q.id: list(q.answers) for q in (*questions, *probes)}
    evidence = frozenset(t for q in questions for t in q.evidence_turn_ids)
    agents = make_agents(config, gold, llm_cache, evidence)
    # A capacity share is of the conversation's own facts: planted ones do not enlarge it.
    memory = ConversationMemory(
        conversation, config.memory, embedding_cache_for(config.memory), facts=stream
    )
    memory.prefetch([f.text for f in facts] + [q.text for q in (*questions, *probes)])
    usage = _Usage(agents.client)
    operations: Counter[str] = Counter()
    invalid, failures, deleted_at = [], [], set()
    for step, fact in enumerate(facts):
        visible = memory.memories_for_fact(fact)
        decision = memory.decide(agents.manager, fact, visible, step, len(facts))
        outcome = memory.apply(decision, fact, visible, step)
        if outcome.failure is not None:
            failures.append(
                {
                    "step": step,
                    "fact_id": fact.id,
                    "kind": outcome.failure,
                    "error": outcome.invalid,
                }
            )
        elif outcome.invalid is not None:
            invalid.append({"step": step, "fact_id": fact.id, "reason": outcome.invalid})
        else:
            operations[outcome.op.name] += 1
            if outcome.op == Op.DELETE:
                deleted_at.add(fact.id)
        tick("facts", 1)
    manager_usage = usage.take()
    answered = []
    for start in range(0, len(questions) + len(probes), ANSWER_CHUNK):
        chunk = [*questions, *probes][start : start + ANSWER_CHUNK]
        answered += memory.answer(agents.answerer, chunk)
        tick("questions", len(chunk))
    if memory.cache is not None:  # later runs and other workers never embed these texts again
        memory.cache.save()
    answer_usage = usage.take()
    judges = judges_for(protocol, config.judge.criteria if config.judge else ())
    judge_usage = _Usage(agents.judge_client)
    rows = [
        _row(protocol, question, answer, context, memory, agents.judge_client, judges)
        for question, (answer, context) in zip(questions, answered[: len(questions)], strict=True)
    ]
    entries = memory.bank.entries()
    result: dict[str, Any] = {
        "conversation_id": conversation.id,
        "n_facts": len(facts),
        "operations": dict(sorted(operations.items())),
        "invalid_operations": invalid,
        "manager_failures": failures,
        "bank_size": len(entries),
        "bank_chars": sum(len(e.text) for e in entries),
        "integrity": bank_integrity(entries, {f.id: f.text for f in facts}),
        "llm_usage": {
            "manager": manager_usage,
            "answerer": answer_usage,
            "judge": judge_usage.take(),
        },
        "answer_cache": agents.answerer.stats.as_dict(),
        "questions": rows,
        "seconds": time.perf_counter() - started,
    }
    if injected is not None:
        probe_answers = {
            q.id: a.text for q, (a, _) in zip(probes, answered[len(questions) :], strict=True)
        }
        result["injection"] = injection_outcome(
            injected.planted,
            deleted_at,
            [(e.text, e.source_fact_ids) for e in entries],
            probe_answers,
        )
    return result


def _row(
    protocol: ScoringProtocol,
    question: Question,
    answer: Any,
    context: Sequence[Any],
    memory: ConversationMemory,
    judge_client: ChatClient | None,
    judges: dict[str, Any],
) -> dict[str, Any]:
    row = score_question(protocol, question, answer.text, judge_client, judges)
    asked = AskedQuestion.of(question)
    namespaces = list(dict.fromkeys(m.namespace for m in context))
    sources = [memory.bank.get(m.id).source_turn_ids for m in context]
    row.update(
        selected=list(answer.selected),
        retrieved=[m.id for m in context],
        context_tokens=prompt_overhead(asked, namespaces)
        + sum(count_tokens(memory_line(m)) + 4 for m in context),
        evidence_recall=evidence_recall(question.evidence_turn_ids, sources),
        error=answer.error,
    )
    return row


class _Usage:
    """Calls and tokens a client spent since the last `take()` (zeros for offline agents)."""

    def __init__(self, client: ChatClient | None) -> None:
        self.stats = getattr(client, "stats", None)
        self.mark = self._now()

    def _now(self) -> dict[str, int]:
        if self.stats is None:
            return {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0}
        return {
            "requests": self.stats.requests,
            "prompt_tokens": self.stats.prompt_tokens,
            "completion_tokens": self.stats.completion_tokens,
        }

    def take(self) -> dict[str, int]:
        now = self._now()
        spent = {k: now[k] - self.mark[k] for k in now}
        self.mark = now
        return spent
