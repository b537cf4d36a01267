"""Environment benchmark: MemoryManagerEnv steps per second, vector-env throughput, memory.

Measures, for each retriever (bm25, dense, hybrid) and reward schedule (episode, session,
step), steps per second of a policy that ADDs every fact, on the bundled sample and on a
synthetic stream of 10k facts (2k with --quick), beside a naive baseline run in the same
process (hybrid retrieval that rebuilds rank-bm25 and re-stacks the vectors after every write).
Then the cost of per-operation credit: window episodes (Memory-R1's training tuples) on the
bundled sample under the `counterfactual` schedule against the `step` schedule, same run. Then
AsyncVectorEnv throughput with 1 and 2 workers, and the peak RSS of one env process with the
dense retriever and with BM25 only. Then the pressure preset (raw turns, whole conversations,
each bank capped at 25% of its speaker's tokens, `session` schedule) against the default
setting, for BM25 and hybrid: the same `fill` decisions replayed with and without the
capacity give the cost of capacity accounting alone (`--data` adds a real LoCoMo file). Embeddings are cached before timing (the env prefetches
a conversation's texts at reset); the default embedder is the offline MiniLM model.

    python benchmarks/bench_env.py [--quick] [--embedder minilm|hashing-384] [--data FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, synthetic_texts
from naive_retriever import NaiveHybridRetriever

from memgym.data.schema import Conversation, Dataset, Fact, Question, Session
from memgym.engine import shared_embedding_cache
from memgym.envs import MemoryManagerEnv
from memgym.metrics.text import porter_stem

SCHEDULES = ("episode", "session", "step")
RETRIEVERS = ("bm25", "dense", "hybrid")


def synthetic_dataset(n_facts: int, n_questions: int = 200) -> Dataset:
    """One conversation of `n_facts` facts (two speakers, 100 per session) and questions whose
    gold answer is a word of one fact."""
    texts = synthetic_texts(n_facts, seed=5)
    start = datetime(2024, 1, 1)
    facts, sessions = [], []
    for s in range(0, n_facts, 100):
        session_id = f"session_{s // 100 + 1}"
        sessions.append(
            Session(
                id=session_id,
                index=s // 100,
                time=start + timedelta(days=s),
                time_raw=None,
                turns=(),
            )
        )
        for i in range(s, min(s + 100, n_facts)):
            facts.append(
                Fact(
                    id=f"syn/f{i}",
                    text=texts[i],
                    speaker=("A", "B")[i % 2],
                    session_id=session_id,
                    time=start + timedelta(days=s),
                    time_raw=None,
                    source_turn_ids=(f"D{s // 100 + 1}:{i}",),
                )
            )
    rng = np.random.default_rng(0)
    questions = []
    for j, i in enumerate(
        rng.choice(n_facts, size=min(n_questions, n_facts), replace=False).tolist()
    ):
        words = texts[i].split()
        questions.append(
            Question(
                id=f"syn/q{j}",
                conversation_id="syn",
                text=" ".join(words[:4]) + "?",
                answers=(words[-1],),
                category=4,
                category_name="single-hop",
                evidence_turn_ids=facts[i].source_turn_ids,
            )
        )
    conversation = Conversation(
        id="syn",
        speakers=("A", "B"),
        sessions=tuple(sessions),
        questions=tuple(questions),
        facts=tuple(facts),
    )
    return Dataset(
        name="locomo",
        variant="synthetic",
        split="all",
        source="synthetic",
        content_hash="synthetic",
        conversations=(conversation,),
    )


def steps_per_second(env: MemoryManagerEnv, episodes: int, max_steps: int | None = None) -> float:
    """Mean steps/s of the ADD-everything policy over `episodes` (after one warm-up episode)."""

    def run(n: int) -> int:
        steps = 0
        for episode in range(n):
            obs, _ = env.reset(seed=episode)
            done = False
            while not done:
                obs, _, done, _, _ = env.step({"op": 0, "target": 0, "text": obs["fact"]})
                steps += 1
                if max_steps is not None and steps >= max_steps:
                    return steps
        return steps

    run(episodes)  # warm-up: every conversation's texts embedded once, as in training
    start = time.perf_counter()
    steps = run(episodes)
    return steps / (time.perf_counter() - start)


def bench_streams(embedder: str, quick: bool) -> dict[str, Any]:
    cache = shared_embedding_cache(embedder)
    synthetic = synthetic_dataset(2000 if quick else 10_000)
    prefix = 300 if quick else 1000  # the naive baseline is too slow for the whole stream
    results: dict[str, Any] = {}
    # Sample episodes are short (13 steps): enough of them to time a stable rate.
    for name, dataset, episodes in (
        ("sample", "sample", 80 if quick else 200),
        ("synthetic", synthetic, 1),
    ):
        for retriever in RETRIEVERS:
            for schedule in SCHEDULES:
                if name == "synthetic" and schedule == "step" and retriever != "hybrid":
                    continue
                env = MemoryManagerEnv(
                    dataset, retriever=retriever, embedder=embedder, reward_schedule=schedule
                )
                limit = prefix if (name == "synthetic" and schedule == "step") else None
                results[f"{name}/{retriever}/{schedule}"] = steps_per_second(env, episodes, limit)
        naive = MemoryManagerEnv(
            dataset, retriever=lambda: NaiveHybridRetriever(cache), embedder=embedder
        )
        ours = MemoryManagerEnv(dataset, retriever="hybrid", embedder=embedder)
        limit = prefix if name == "synthetic" else None
        results[f"{name}/naive-hybrid/episode"] = steps_per_second(naive, episodes, limit)
        results[f"{name}/hybrid/episode-prefix"] = steps_per_second(ours, episodes, limit)
    return results


def bench_credit(embedder: str, quick: bool) -> dict[str, float]:
    """Steps/s of window episodes under the step and counterfactual schedules."""
    out = {}
    for schedule in ("step", "counterfactual"):
        env = MemoryManagerEnv(
            episode="window", retriever="hybrid", embedder=embedder, reward_schedule=schedule
        )
        out[f"window/{schedule}"] = steps_per_second(env, 40 if quick else 200)
    out["counterfactual_cost"] = out["window/step"] / out["window/counterfactual"]
    return out


def _make_env(embedder: str) -> Any:
    return lambda: MemoryManagerEnv(retriever="hybrid", embedder=embedder)


def bench_vector(embedder: str, quick: bool) -> dict[str, float]:
    out = {}
    steps = 300 if quick else 1500
    for workers in (1, 2):
        vec = gym.vector.AsyncVectorEnv(
            [_make_env(embedder) for _ in range(workers)], shared_memory=False
        )
        try:
            obs, _ = vec.reset(seed=list(range(workers)))
            start, done = time.perf_counter(), 0
            while done < steps:
                actions = {
                    "op": np.zeros(workers, dtype=np.int64),
                    "target": np.zeros(workers, dtype=np.int64),
                    "text": tuple(obs["fact"]),
                }
                obs, *_ = vec.step(actions)
                done += workers
            out[f"async_{workers}_workers_steps_per_s"] = done / (time.perf_counter() - start)
        finally:
            vec.close()
    return out


def replay(env: MemoryManagerEnv, decisions: list[list[Any]]) -> float:
    """Steps per CPU second of `env` stepping through recorded decisions, one list per
    episode. CPU time of this process, not wall time: the ratio of two replays then holds on a
    busy machine."""
    start, steps = time.process_time(), 0
    for index, episode in enumerate(decisions):
        env.reset(seed=0, options={"episode_index": index})
        for decision in episode:
            env.step(decision)
            steps += 1
    return steps / (time.process_time() - start)


def paired_replays(
    a: MemoryManagerEnv, b: MemoryManagerEnv, decisions: list[list[Any]], rounds: int = 5
) -> tuple[float, float]:
    """The best steps/s of each env over `rounds` alternating replays (after one warm-up
    each), so that both see the same machine."""
    replay(a, decisions), replay(b, decisions)
    best_a = best_b = 0.0
    for _ in range(rounds):
        best_a = max(best_a, replay(a, decisions))
        best_b = max(best_b, replay(b, decisions))
    return best_a, best_b


def bench_pressure(embedder: str, data: str | None) -> dict[str, float]:
    """The pressure preset against the default setting, and capacity accounting alone: `fill`
    decisions recorded under the capacity, replayed with it and without it."""
    from memgym.agents import make_manager

    out: dict[str, float] = {}
    sources = [("sample", "locomo", None)] + ([("real", "locomo", data)] if data else [])
    for name, dataset, path in sources:
        for retriever in ("bm25", "hybrid"):
            common: dict[str, Any] = {"retriever": retriever, "embedder": embedder}
            default = MemoryManagerEnv(dataset, path, "all", **common)
            out[f"{name}/{retriever}/default"] = steps_per_second(default, default.episodes)
            preset = dict(common, fact_source="turns", reward_schedule="session")
            capped = MemoryManagerEnv(dataset, path, "all", memory_capacity=0.25, **preset)
            fill = make_manager("fill")
            decisions: list[list[Any]] = []
            for index in range(capped.episodes):
                capped.reset(seed=0, options={"episode_index": index})
                episode, done = [], False
                while not done:
                    fact, bank = capped.current_fact, capped.bank_state()
                    assert fact is not None and bank is not None and capped.memory is not None
                    decision = capped.memory.decide(
                        fill, fact, capped.visible_memories, bank.step, bank.n_facts
                    )
                    episode.append(decision)
                    done = capped.step(decision)[2]
                decisions.append(episode)
            unbounded = MemoryManagerEnv(dataset, path, "all", **preset)
            with_capacity, without = paired_replays(capped, unbounded, decisions)
            out[f"{name}/{retriever}/pressure"] = with_capacity
            out[f"{name}/{retriever}/pressure-without-capacity"] = without
            out[f"{name}/{retriever}/capacity_cost"] = (
                out[f"{name}/{retriever}/pressure-without-capacity"]
                / out[f"{name}/{retriever}/pressure"]
                - 1.0
            )
    return out


# VmHWM, not ru_maxrss: on Linux a child's ru_maxrss starts from its parent's at fork time.
_RSS = """
import sys
from memgym.envs import MemoryManagerEnv
env = MemoryManagerEnv(retriever=sys.argv[1], embedder=sys.argv[2])
for seed in range(4):
    obs, _ = env.reset(seed=seed)
    done = False
    while not done:
        obs, _, done, _, _ = env.step({"op": 0, "target": 0, "text": obs["fact"]})
with open("/proc/self/status") as status:
    print(next(int(line.split()[1]) for line in status if line.startswith("VmHWM")) / 1024)
"""


def peak_rss_mb(retriever: str, embedder: str, cold: bool) -> float:
    """Peak resident memory (MB) of a fresh process running four episodes. `cold` gives it an
    empty embedding cache, so it loads the model; warm, every text is already on disk."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as empty:
        if cold:
            env["MEMGYM_CACHE_DIR"] = empty
        out = subprocess.run(
            [sys.executable, "-c", _RSS, retriever, embedder],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--data", default=None, help="a LoCoMo file for the pressure rows")
    parser.add_argument("--only-pressure", action="store_true", help="only the pressure rows")
    args = parser.parse_args()
    porter_stem("warm")  # the metric's stemmer import (about 3 s) is not an env step
    report: dict[str, Any] = {"machine": machine(), "embedder": args.embedder}
    report["pressure"] = pressure = bench_pressure(args.embedder, args.data)
    for key, value in pressure.items():
        shown = f"{100 * value:+.1f}%" if key.endswith("cost") else f"{value:.0f} steps/s"
        print(f"{key:45s} {shown}")
    if args.only_pressure:
        emit(report)
        return
    report["steps_per_s"] = streams = bench_streams(args.embedder, args.quick)
    print(f"{'stream/retriever/schedule':40s} {'steps/s':>10s}")
    for key, value in streams.items():
        print(f"{key:40s} {value:10.0f}")
    for name in ("sample", "synthetic"):
        ratio = streams[f"{name}/hybrid/episode-prefix"] / streams[f"{name}/naive-hybrid/episode"]
        report[f"{name}_speedup_vs_naive"] = ratio
        print(f"{name}: hybrid episode schedule is {ratio:.1f}x the naive baseline")
    report["credit"] = credit = bench_credit(args.embedder, args.quick)
    print(
        f"window episodes: step {credit['window/step']:.0f} steps/s, counterfactual "
        f"{credit['window/counterfactual']:.0f} steps/s ({credit['counterfactual_cost']:.1f}x "
        "slower: one NOOP fork rescored per step)"
    )
    report["vector"] = vector = bench_vector(args.embedder, args.quick)
    for key, value in vector.items():
        print(f"{key}: {value:.0f}")
    report["peak_rss_mb"] = rss = {
        "dense_cold": peak_rss_mb("dense", args.embedder, cold=True),
        "dense_warm_cache": peak_rss_mb("dense", args.embedder, cold=False),
        "bm25": peak_rss_mb("bm25", args.embedder, cold=True),
    }
    print(
        f"peak RSS: dense {rss['dense_cold']:.0f} MB with the model loaded, "
        f"{rss['dense_warm_cache']:.0f} MB from a warm embedding cache; bm25 {rss['bm25']:.0f} MB"
    )
    emit(report)


if __name__ == "__main__":
    main()
