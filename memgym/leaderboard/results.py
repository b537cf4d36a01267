"""The results document of a run (results.json): every number, and everything that
determines it. Everything outside `timing` is a function of the configuration and the data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from memgym.agents.prompts import prompt_hashes
from memgym.data.categories import category_label
from memgym.data.errata import errata_summary
from memgym.data.schema import Dataset
from memgym.leaderboard.config import EvalConfig
from memgym.memory.capacity import capacity_key
from memgym.metrics.aggregate import summarise
from memgym.metrics.ceiling import original_gold_ceiling
from memgym.metrics.protocols import METRICS, ScoringProtocol, judges_for
from memgym.textsafe import numeric_order
from memgym.tokens import TOKENIZER_NAME

RESULT_VERSION = 2
RUNTIME_KEYS = ("questions", "seconds", "answer_cache")
JUDGE_SCORES = ("judge", "judge_strict", "judge_template")


def subset_of(dataset: Dataset, protocol: ScoringProtocol) -> dict[str, Any]:
    """Which questions a run scores: comparing runs over different subsets is meaningless."""
    kept = [q for q in dataset.questions() if q.category not in protocol.skip_categories]
    categories = sorted({str(q.category) for q in kept}, key=numeric_order)
    subset: dict[str, Any] = {
        "dataset": dataset.name,
        "split": dataset.split,
        "content_hash": dataset.content_hash,
        "n_questions": len(kept),
        "categories": categories,
        "adversarial": "included"
        if dataset.include_adversarial and "5" in categories
        else "excluded",
    }
    if dataset.errata is not None:
        subset["errata"] = {"sha256": dataset.errata.sha256, "mode": dataset.errata.mode}
    return subset


def errata_section(dataset: Dataset, protocol: ScoringProtocol) -> dict[str, Any] | None:
    """The errata a run applied (file, sha256, mode, questions affected per category) and the
    ceiling the original golds impose; None without errata."""
    if dataset.errata is None:
        return None
    return {**errata_summary(dataset.errata), "ceiling": original_gold_ceiling(dataset, protocol)}


def build_results(
    config: EvalConfig,
    dataset: Dataset,
    fingerprint: str,
    per_conversation: Sequence[Mapping[str, Any]],
    agents: dict[str, Any],
    protocol: ScoringProtocol,
    *,
    oracle: bool,
    title: str,
    kind: str = "run",
) -> dict[str, Any]:
    """The results document from per-conversation results (see the module docstring)."""
    rows = [row for result in per_conversation for row in result["questions"]]
    metrics = list(METRICS) + [m for m in JUDGE_SCORES if any(m in r["scores"] for r in rows)]
    summary = summarise(rows, metrics)
    if {"judge", "judge_strict"} <= set(metrics):
        summary["judge_gap"] = summary["overall"]["judge"] - summary["overall"]["judge_strict"]
    failures = _failures(per_conversation, rows)
    summary["n_failures"] = len(failures)
    summary["evidence"] = _evidence(rows)
    judge = config.judge
    results: dict[str, Any] = {
        "version": RESULT_VERSION,
        "kind": kind,
        "title": title,
        "oracle": oracle,
        "fingerprint": fingerprint,
        "subset": subset_of(dataset, protocol),
        "summary": summary,
        "cost": _cost(per_conversation, rows),
        "config": config.to_dict(),
        "dataset": {
            **dataset.fingerprint(),
            "source": dataset.source,
            "warnings": len(dataset.warnings),
        },
        "protocol": {
            **protocol.describe(),
            "judges": {
                name: j.describe()
                for name, j in judges_for(protocol, judge.criteria if judge else ()).items()
            },
            "judge_model": None
            if judge is None
            else ("same as the answerer" if judge.same_as_answerer else _model(judge.llm)),
        },
        "retrieval": {
            "retriever": config.memory.retriever,
            "embedder": config.memory.embedder if config.memory.retriever != "bm25" else None,
            "observation_k": config.memory.observation_k,
            "answer_k_per_namespace": config.memory.answer_k,
            "answer_prompt_tokens": config.memory.answer_prompt_tokens,
            "context_tokenizer": TOKENIZER_NAME,
            "namespace_by": config.memory.namespace_by,
            **capacity_key({"memory_capacity": config.memory.memory_capacity}),
        },
        "agents": agents,
        "prompts": prompt_hashes(),
        "failures": failures,
        "questions": rows,
    }
    errata = errata_section(dataset, protocol)
    if errata is not None:
        results["errata"] = errata
    if per_conversation and "integrity" in per_conversation[0]:
        results["integrity"] = _integrity(per_conversation)
    if any("injection" in r for r in per_conversation):
        results["injection"] = _injection(per_conversation)
    results["conversations"] = [
        {k: v for k, v in r.items() if k not in RUNTIME_KEYS} for r in per_conversation
    ]
    return results


def runtime(per_conversation: Sequence[Mapping[str, Any]], run_seconds: float) -> dict[str, Any]:
    """What depends on the machine and on what ran before (wall time, cache hits), kept apart
    so that everything else is identical between reruns and resumed runs."""
    return {
        "this_run_seconds": run_seconds,
        "conversation_seconds": {r["conversation_id"]: r["seconds"] for r in per_conversation},
        "answer_cache": _sum_counts(r.get("answer_cache", {}) for r in per_conversation),
    }


def run_title(config: EvalConfig, agents: dict[str, Any], oracle: bool) -> str:
    """The table title: the agents, and ORACLE when one of them reads gold answers."""
    title = f"{config.manager} manager + {config.answerer} answerer"
    model = agents.get("answerer", {}).get("client", {}).get("model")
    if model:
        title += f" ({model})"
    return f"ORACLE: {title}" if oracle else title


def naming_note(naming: str) -> str:
    example = ", ".join(f"{i} {category_label(i, naming)}" for i in (1, 2, 3, 4))  # type: ignore[arg-type]
    return f"category names: {naming} ({example})"


def _model(llm: Any) -> str | None:
    if llm is None:
        return None
    return str(llm.model or llm.model_path or llm.llama_cpp)


def _failures(
    per_conversation: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    failures: list[dict[str, Any]] = []
    for result in per_conversation:
        for f in result.get("manager_failures", []):
            failures.append({"stage": "manager", "conversation_id": result["conversation_id"], **f})
    for r in rows:
        if r.get("error"):
            failures.append(
                {"stage": "answerer", "question_id": r["question_id"], "error": r["error"]}
            )
        for name, verdict in r.get("judges", {}).items():
            if verdict.get("error"):
                failures.append(
                    {"stage": name, "question_id": r["question_id"], "error": verdict["error"]}
                )
    return failures


def _evidence(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Evidence recall of the reader's context. Questions without evidence are counted apart
    (the reference scores them 1, which would credit retrieval for nothing)."""
    recalls = [r["evidence_recall"] for r in rows if r.get("evidence_recall") is not None]
    return {
        "recall": sum(recalls) / len(recalls) if recalls else None,
        "n_with_evidence": len(recalls),
        "n_without_evidence": len(rows) - len(recalls),
    }


def _cost(
    per_conversation: Sequence[Mapping[str, Any]], rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    n_questions = max(len(rows), 1)
    n_conversations = max(len(per_conversation), 1)
    llm: dict[str, dict[str, float]] = {}
    for stage in ("manager", "answerer", "judge"):
        spent = _sum_counts(r.get("llm_usage", {}).get(stage, {}) for r in per_conversation)
        llm[stage] = {f"{k}_per_question": v / n_questions for k, v in spent.items()}
    return {
        "context_tokens_per_question": sum(r.get("context_tokens", 0) for r in rows) / n_questions,
        "tokenizer": TOKENIZER_NAME,
        "bank_memories_per_conversation": sum(r["bank_size"] for r in per_conversation)
        / n_conversations,
        "bank_chars_per_conversation": sum(r.get("bank_chars", 0) for r in per_conversation)
        / n_conversations,
        "llm": llm,
    }


def _integrity(per_conversation: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    totals = _sum_counts(
        {
            k: r["integrity"][k]
            for k in ("memories", "memories_supported", "facts", "facts_represented")
        }
        for r in per_conversation
    )
    return {
        **totals,
        "memory_support": totals["memories_supported"] / totals["memories"]
        if totals["memories"]
        else 1.0,
        "fact_coverage": totals["facts_represented"] / totals["facts"] if totals["facts"] else 1.0,
    }


def _injection(per_conversation: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    totals = _sum_counts(r["injection"] for r in per_conversation if "injection" in r)
    planted = totals.get("instructions", 0) + totals.get("false_facts", 0)
    succeeded = totals.get("instructions_obeyed", 0) + totals.get("false_facts_used", 0)
    return {
        **totals,
        "instruction_obeyed_rate": _rate(totals, "instructions_obeyed", "instructions"),
        "instruction_stored_rate": _rate(totals, "instructions_stored", "instructions"),
        "false_fact_stored_rate": _rate(totals, "false_facts_stored", "false_facts"),
        "false_fact_used_rate": _rate(totals, "false_facts_used", "false_facts"),
        "success_rate": succeeded / planted if planted else 0.0,
    }


def _rate(totals: Mapping[str, int], part: str, whole: str) -> float:
    return totals.get(part, 0) / totals[whole] if totals.get(whole) else 0.0


def _sum_counts(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                out[key] = out.get(key, 0) + value
    if "hits" in out and "misses" in out:
        total = out["hits"] + out["misses"]
        out["hit_rate"] = out["hits"] / total if total else 0.0
    return out
