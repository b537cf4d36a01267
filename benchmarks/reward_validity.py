"""Does the offline proxy rank memory managers as a real reader does?

For each manager (noop, add_all, heuristic, random, concat by default) and each conversation,
the bank is built by the manager exactly as the env and leaderboard build it; the same
questions are then answered from the same contexts (the memories that fit the reader's prompt
budget) by the ORACLE proxy (`oracle_support`) and by a real reader. The script prints both
rankings of the managers and Kendall's tau between them (on the reader's exact match and on
Mem0's F1, which separates weak readers better).

The pressure setting: `--fact-source turns --memory-capacity 0.25 --managers fill salience ppo
evidence` (raw turns, each bank capped at a quarter of its speaker's tokens; `evidence` is an
ORACLE that reads the golds; `--policy-file` for another ppo policy).

    # the full study: a GPU endpoint (vLLM, SGLang) serving e.g. Qwen2.5-7B-Instruct
    python benchmarks/reward_validity.py --data conv26.json conv30.json \\
        --base-url http://127.0.0.1:8000/v1 --model Qwen/Qwen2.5-7B-Instruct
    # a local model: --model-path DIR [--gguf-file F.gguf], or --llama-cpp F.gguf
    python benchmarks/reward_validity.py --quick   # bundled sample, extractive reader stand-in
    python benchmarks/reward_validity.py --data conv30.json --split val --fact-source turns \
        --memory-capacity 0.25 --managers fill salience ppo evidence --questions 30 \
        --base-url http://127.0.0.1:8765/v1 --model qwen2.5-coder-1.5b-instruct

Nothing is downloaded. `--questions N` scores a deterministic subset per conversation (a CPU
reader takes tens of seconds per question). Replies are cached in `--cache` so an interrupted
run resumes. The last line is JSON.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine

from memgym.agents import LLMAnswerer, make_answerer, make_manager
from memgym.agents.answer_cache import AnswerCache, CachingAnswerer
from memgym.agents.clients import make_client
from memgym.config import MemoryConfig
from memgym.data import load_dataset
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.facts import default_fact_source, fact_stream
from memgym.memory.capacity import parse_capacity
from memgym.metrics.lexical import exact_match, mem0_f1

MANAGERS = ("noop", "add_all", "heuristic", "random", "concat")


def kendall_tau(a: list[float], b: list[float]) -> float:
    """Kendall's tau-b of two score lists (ties counted as in scipy's tau-b)."""
    concordant = discordant = ties_a = ties_b = 0
    for i, j in combinations(range(len(a)), 2):
        da, db = a[i] - a[j], b[i] - b[j]
        if da == 0 and db == 0:
            continue
        if da == 0:
            ties_a += 1
        elif db == 0:
            ties_b += 1
        elif (da > 0) == (db > 0):
            concordant += 1
        else:
            discordant += 1
    denominator = ((concordant + discordant + ties_a) * (concordant + discordant + ties_b)) ** 0.5
    return (concordant - discordant) / denominator if denominator else 0.0


def reader_from(args: argparse.Namespace) -> tuple[Any, str]:
    if args.base_url:
        spec: dict[str, Any] = {"base_url": args.base_url, "model": args.model}
        spec.update(
            max_tokens=args.max_tokens,
            cache=args.cache,
            timeout=args.timeout,
            concurrency=args.concurrency,
        )
    elif args.model_path:
        spec = {"model_path": args.model_path, "max_new_tokens": args.max_tokens}
        if args.gguf_file:
            spec["gguf_file"] = args.gguf_file
    elif args.llama_cpp:
        spec = {"llama_cpp": args.llama_cpp, "max_tokens": args.max_tokens}
    else:
        return make_answerer("extractive"), "extractive (offline stand-in; not an LLM)"
    client = make_client(spec)
    return LLMAnswerer(client), f"llm:{client.model}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", nargs="*", default=[], help="LoCoMo files (default: sample)")
    parser.add_argument("--questions", type=int, default=0, help="per conversation (0: all)")
    parser.add_argument("--managers", nargs="*", default=list(MANAGERS))
    parser.add_argument("--split", default="all")
    parser.add_argument("--fact-source", choices=["dataset", "turns"], default=None)
    parser.add_argument(
        "--memory-capacity",
        type=parse_capacity,
        default=None,
        help="tokens per bank, or a share of each speaker's fact tokens",
    )
    parser.add_argument("--policy-file", default=None, help="the ppo manager's policy")
    parser.add_argument("--retriever", default="hybrid")
    parser.add_argument("--answer-prompt-tokens", type=int, default=4096)
    parser.add_argument(
        "--answer-k",
        type=int,
        default=None,
        help="memories per speaker the reader gets (default: as many as fit the budget; 30 is "
        "Memory-R1's 60-memory setup)",
    )
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--model-path")
    parser.add_argument("--gguf-file")
    parser.add_argument("--llama-cpp")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per reader call")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="reader calls in flight (1 for a CPU server)"
    )
    parser.add_argument("--cache", default="runs/reward_validity/replies.sqlite")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="bundled sample, extractive reader")
    args = parser.parse_args()
    if args.quick:
        args.data, args.base_url, args.model_path, args.llama_cpp = [], None, None, None
    reader, reader_name = reader_from(args)
    cached_reader = CachingAnswerer(reader, AnswerCache(), {"reader": reader_name})
    config = MemoryConfig(
        retriever=args.retriever,
        answer_prompt_tokens=args.answer_prompt_tokens,
        answer_k=args.answer_k,
        memory_capacity=args.memory_capacity,
    )
    datasets = [load_dataset("locomo", path, args.split) for path in args.data] or [
        load_dataset("locomo", None, args.split)
    ]
    fact_source = args.fact_source or default_fact_source("locomo")
    started = time.perf_counter()
    rows: dict[str, dict[str, float]] = {}
    n_questions = 0
    for manager_name in args.managers:
        totals = {"proxy_em": 0.0, "reader_em": 0.0, "reader_f1": 0.0, "context_memories": 0.0}
        n = 0
        for dataset in datasets:
            for conversation in dataset.conversations:
                questions = list(conversation.questions)
                if args.questions:
                    questions = random.Random(f"{args.seed}/{conversation.id}").sample(
                        questions, min(args.questions, len(questions))
                    )
                facts = fact_stream(conversation, fact_source)
                memory = ConversationMemory(
                    conversation, config, embedding_cache_for(config), facts=facts
                )
                evidence = {t for q in conversation.questions for t in q.evidence_turn_ids}
                manager = make_manager(
                    manager_name, evidence_turn_ids=evidence, policy_file=args.policy_file
                )
                memory.run_manager(facts, manager)
                gold = {q.id: list(q.answers) for q in questions}
                oracle = make_answerer("oracle_support", gold)
                proxy = memory.answer(oracle, questions)
                real = memory.answer(cached_reader, questions)
                for q, (p, _), (r, context) in zip(questions, proxy, real, strict=True):
                    totals["proxy_em"] += exact_match(p.text, list(q.answers))
                    totals["reader_em"] += exact_match(r.text, list(q.answers))
                    totals["reader_f1"] += mem0_f1(r.text, list(q.answers))
                    totals["context_memories"] += len(context)
                    n += 1
                print(
                    f"{manager_name} {conversation.id}: {len(questions)} questions "
                    f"({time.perf_counter() - started:.0f} s)",
                    flush=True,
                )
        rows[manager_name] = {k: v / n for k, v in totals.items()}
        n_questions = n
    names = list(rows)
    proxy = [rows[m]["proxy_em"] for m in names]
    print(
        f"\nreader {reader_name}; {n_questions} questions per manager; "
        f"prompt budget {args.answer_prompt_tokens} tokens, {args.answer_k or 'all'} memories "
        f"per speaker; facts {fact_source}; "
        f"memory capacity {args.memory_capacity}"
    )
    print(
        f"{'manager':10s} {'proxy EM':>9s} {'reader EM':>10s} {'reader F1':>10s} {'memories':>9s}"
    )
    for m in names:
        r = rows[m]
        print(
            f"{m:10s} {r['proxy_em']:9.3f} {r['reader_em']:10.3f} {r['reader_f1']:10.3f} "
            f"{r['context_memories']:9.1f}"
        )
    ranking = {
        key: sorted(names, key=lambda m, k=key: -rows[m][k])
        for key in ("proxy_em", "reader_em", "reader_f1")
    }
    emit(
        {
            "reader": reader_name,
            "questions_per_manager": n_questions,
            "fact_source": fact_source,
            "memory_capacity": args.memory_capacity,
            "answer_k": args.answer_k,
            "split": args.split,
            "managers": rows,
            "ranking": ranking,
            "kendall_tau_em": kendall_tau(proxy, [rows[m]["reader_em"] for m in names]),
            "kendall_tau_f1": kendall_tau(proxy, [rows[m]["reader_f1"] for m in names]),
            "reader_cache": cached_reader.stats.as_dict(),
            "seconds": time.perf_counter() - started,
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
