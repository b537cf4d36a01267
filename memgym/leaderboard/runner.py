"""Run an evaluation: one job per conversation, written atomically, resumable, in parallel.

`evaluate_conversation` is a pure function of (config, conversation): a distributed backend can
run it anywhere. `run_eval` schedules the jobs, skips those already on disk, and aggregates.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from tqdm import tqdm

from memgym.agents.llm_client import ChatClient, OpenAICompatibleClient
from memgym.agents.prompts import prompt_hashes
from memgym.agents.registry import describe_agent, make_answerer, make_manager
from memgym.data.categories import Naming
from memgym.data.loading import load_dataset
from memgym.data.schema import Conversation, Dataset
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.facts import default_fact_source, fact_stream
from memgym.io import atomic_write_json, sha256_file, stable_hash
from memgym.leaderboard.config import EvalConfig
from memgym.leaderboard.report import write_outputs
from memgym.metrics.aggregate import aggregate
from memgym.metrics.protocols import METRICS, ScoringProtocol, get_protocol
from memgym.metrics.scoring import read_predictions, score_predictions, score_question

LEXICAL_METRICS: tuple[str, ...] = tuple(METRICS)
RESULT_VERSION = 1


class ConfigMismatchError(RuntimeError):
    """The output folder holds results of a different configuration."""


def scoring_protocol(config: EvalConfig) -> ScoringProtocol:
    """The run's protocol with every lexical metric (they are cheap; the table shows them all)."""
    return dataclasses.replace(get_protocol(config.protocol), metrics=LEXICAL_METRICS)


def make_client(config: EvalConfig, cache_path: str | None) -> ChatClient | None:
    """The endpoint client of an LLM run, with its response cache in the output folder."""
    if config.llm is None:
        return None
    llm = config.llm
    return OpenAICompatibleClient(
        llm.base_url,
        llm.model,
        api_key_env=llm.api_key_env,
        temperature=llm.temperature,
        max_tokens=llm.max_tokens,
        timeout=llm.timeout,
        max_retries=llm.max_retries,
        concurrency=llm.concurrency,
        cache=cache_path,
    )


def evaluate_conversation(
    config: EvalConfig, conversation: Conversation, llm_cache: str | None = None
) -> dict[str, Any]:
    """Build the bank with the manager, answer every question, score it. Deterministic."""
    started = time.perf_counter()
    client = make_client(config, llm_cache)
    manager = make_manager(config.manager, client)
    gold = {q.id: list(q.answers) for q in conversation.questions}
    answerer = make_answerer(config.answerer, gold, client)
    dataset_name = config.dataset if config.dataset != "sample" else "locomo"
    source = config.fact_source or default_fact_source(dataset_name)
    facts = fact_stream(conversation, source)  # type: ignore[arg-type]
    memory = ConversationMemory(conversation, config.memory, embedding_cache_for(config.memory))
    memory.prefetch([f.text for f in facts] + [q.text for q in conversation.questions])
    outcomes = memory.run_manager(facts, manager)
    protocol = scoring_protocol(config)
    questions = [q for q in conversation.questions if q.category not in protocol.skip_categories]
    answered = memory.answer(answerer, questions)
    judge_client = client if config.judge else None
    rows = []
    for question, (answer, retrieved) in zip(questions, answered, strict=True):
        row = score_question(protocol, question, answer.text, judge_client)
        row.update(
            selected=list(answer.selected),
            retrieved=[m.id for m in retrieved],
            error=answer.error,
        )
        rows.append(row)
    cache = memory.cache
    if cache is not None:
        cache.save()
    return {
        "conversation_id": conversation.id,
        "n_facts": len(facts),
        "operations": dict(Counter(o.op.name for o in outcomes if o.invalid is None)),
        "invalid_operations": [o.invalid for o in outcomes if o.invalid is not None],
        "bank_size": len(memory.bank),
        "questions": rows,
        "seconds": time.perf_counter() - started,
    }


def _job(args: tuple[EvalConfig, Conversation, str | None]) -> dict[str, Any]:
    return evaluate_conversation(*args)


def _done_path(out: Path, conversation_id: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in conversation_id)
    return out / "conversations" / f"{safe}.json"


def run_eval(
    config: EvalConfig,
    out: Path,
    *,
    workers: int = 1,
    restart: bool = False,
    progress: bool = True,
    naming: Naming = "locomo",
) -> dict[str, Any]:
    """Evaluate every conversation of the split into `out`, resuming a previous run of the same
    configuration; returns the results (also written to `out/results.json`)."""
    dataset = load_dataset(
        config.dataset, config.data, config.split, include_adversarial=config.include_adversarial
    )
    fingerprint = config.fingerprint(dataset.content_hash)
    _claim(out, config, fingerprint, restart)
    llm_cache = str(out / "llm_cache.sqlite") if config.llm is not None else None
    pending = [c for c in dataset.conversations if not _done_path(out, c.id).exists()]
    started = time.perf_counter()
    bar = tqdm(
        total=len(dataset.conversations),
        initial=len(dataset.conversations) - len(pending),
        unit="conversation",
        disable=not progress,
        file=sys.stderr,
    )
    with bar:
        for conversation_id, result in _results(config, pending, llm_cache, workers):
            atomic_write_json(_done_path(out, conversation_id), result)
            bar.set_postfix_str(f"{conversation_id}: {len(result['questions'])} questions")
            bar.update()
    return assemble(config, dataset, out, fingerprint, time.perf_counter() - started, naming)


def _claim(out: Path, config: EvalConfig, fingerprint: str, restart: bool) -> None:
    """Refuse to mix configurations in one folder; `restart` discards earlier results."""
    manifest = out / "manifest.json"
    if manifest.exists() and not restart:
        previous = json.loads(manifest.read_text()).get("fingerprint")
        if previous != fingerprint:
            raise ConfigMismatchError(
                f"{out} holds results of another configuration or dataset "
                f"({previous} != {fingerprint}); use --restart to start over"
            )
    if restart:
        for old in (out / "conversations").glob("*.json"):
            old.unlink()
    atomic_write_json(manifest, {"fingerprint": fingerprint, "config": config.to_dict()})


def _results(
    config: EvalConfig, pending: list[Conversation], llm_cache: str | None, workers: int
) -> Iterator[tuple[str, dict[str, Any]]]:
    if workers <= 1 or len(pending) <= 1:
        for conversation in pending:
            yield conversation.id, evaluate_conversation(config, conversation, llm_cache)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures: dict[Future[dict[str, Any]], str] = {
            pool.submit(_job, (config, c, llm_cache)): c.id for c in pending
        }
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                yield futures.pop(future), future.result()


def assemble(
    config: EvalConfig,
    dataset: Dataset,
    out: Path,
    fingerprint: str,
    run_seconds: float = 0.0,
    naming: Naming = "locomo",
) -> dict[str, Any]:
    """Aggregate the per-conversation files into results.json, predictions.jsonl and the
    report; every number outside `timing` is a function of the configuration and the data."""
    per_conversation = [
        json.loads(_done_path(out, c.id).read_text()) for c in dataset.conversations
    ]
    agents = {
        "manager": describe_agent(make_manager(config.manager, make_client(config, None))),
        "answerer": describe_agent(make_answerer(config.answerer, {}, make_client(config, None))),
    }
    results = _results_document(
        config,
        dataset,
        fingerprint,
        [row for result in per_conversation for row in result["questions"]],
        agents,
    )
    results["conversations"] = [
        {k: v for k, v in r.items() if k not in ("questions", "seconds")} for r in per_conversation
    ]
    results["timing"] = {
        "this_run_seconds": run_seconds,
        "conversation_seconds": {r["conversation_id"]: r["seconds"] for r in per_conversation},
    }
    write_outputs(out, results, naming)
    return results


def score_submission(
    config: EvalConfig, predictions: Path, out: Path, naming: Naming = "locomo"
) -> dict[str, Any]:
    """Score an external predictions JSONL (a leaderboard entry) without running any agent."""
    dataset = load_dataset(
        config.dataset, config.data, config.split, include_adversarial=config.include_adversarial
    )
    report = score_predictions(dataset, read_predictions(predictions), scoring_protocol(config))
    fingerprint = stable_hash(
        {"submission": sha256_file(predictions), "dataset": dataset.content_hash}
    )
    agents = {"submission": {"file": str(predictions), "sha256": sha256_file(predictions)}}
    results = _results_document(config, dataset, fingerprint, report["questions"], agents)
    results["missing_predictions"] = report["missing_predictions"]
    results["unknown_predictions"] = report["unknown_predictions"]
    write_outputs(out, results, naming)
    return results


def _results_document(
    config: EvalConfig,
    dataset: Dataset,
    fingerprint: str,
    rows: list[dict[str, Any]],
    agents: dict[str, Any],
) -> dict[str, Any]:
    metrics = list(LEXICAL_METRICS) + (
        ["judge"] if any("judge" in r["scores"] for r in rows) else []
    )
    summary = aggregate(rows, metrics)
    failures = [
        {"question_id": r["question_id"], "error": r["error"]} for r in rows if r.get("error")
    ] + [
        {"question_id": r["question_id"], "error": f"judge: {r['judge']['error']}"}
        for r in rows
        if r.get("judge", {}).get("error")
    ]
    summary["n_failures"] = len(failures)
    return {
        "version": RESULT_VERSION,
        "fingerprint": fingerprint,
        "summary": summary,
        "config": config.to_dict(),
        "dataset": {**dataset.fingerprint(), "source": dataset.source},
        "protocol": scoring_protocol(config).describe(),
        "retrieval": {
            "retriever": config.memory.retriever,
            "embedder": config.memory.embedder if config.memory.retriever != "bm25" else None,
            "observation_k": config.memory.observation_k,
            "answer_k_per_namespace": config.memory.answer_k,
            "namespace_by": config.memory.namespace_by,
        },
        "agents": agents,
        "prompts": prompt_hashes(),
        "failures": failures,
        "questions": rows,
    }
