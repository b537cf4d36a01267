"""Retrieval benchmark: incremental BM25, dense (exact, HNSW) and hybrid against naive baselines.

For banks of 1k, 10k and 100k short texts (1k and 10k with --quick) it prints build time,
per-write cost (ADD/UPDATE/DELETE) and query latency p50/p95 of each retriever next to the
naive baseline run in the same process: rank-bm25 rebuilt after every write, and numpy
brute-force cosine over a matrix re-stacked after every write. It then times the env's inner
loop (one write + one hybrid query on a 1k bank) and snapshot + restore of a 10k bank.
Embeddings are precomputed (cached), as in the environments; `--embedder minilm` uses the real
model (slow to precompute at 100k), the default is the 384-dim hashing embedder.

    python benchmarks/bench_retrieval.py [--quick] [--embedder hashing-384|minilm]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine, percentile_us, synthetic_texts, timed
from naive_retriever import NaiveHybridRetriever

from memgym.memory import MemoryBank
from memgym.retrieval import EmbeddingCache, make_embedder, make_retriever

K = 30
NS = "default"  # the namespace MemoryBank uses when none is given


def bench_retriever(
    kind: str, cache: EmbeddingCache, corpus: list[str], fresh: list[str], queries: list[str]
) -> dict[str, float]:
    """Build a bank of `corpus`, then time single writes and queries."""
    rng = random.Random(len(corpus))
    name, _, index = kind.partition("-")
    bank = MemoryBank(make_retriever(name, cache=cache, dense_index=index or "exact"))  # type: ignore[arg-type]
    build = timed(lambda: [bank.add(t) for t in corpus], 1)[0]
    ids = [e.id for e in bank.entries()]
    writes = {
        "add": timed(lambda: ids.append(bank.add(rng.choice(fresh)).id), 100),
        "update": timed(lambda: bank.update(rng.choice(ids), rng.choice(fresh)), 100),
        "delete": timed(lambda: bank.delete(ids.pop(rng.randrange(len(ids)))), 100),
    }
    query_iter = iter(queries * 10)
    latency = timed(lambda: bank.search(next(query_iter), K), len(queries))
    return {
        "build_s": build,
        **{f"{op}_us": percentile_us(s, 50) for op, s in writes.items()},
        "query_p50_us": percentile_us(latency, 50),
        "query_p95_us": percentile_us(latency, 95),
    }


def bench_naive(
    cache: EmbeddingCache, corpus: list[str], fresh: list[str], queries: list[str], quick: bool
) -> dict[str, float]:
    """The baseline on the same corpus: rebuild per write, brute-force queries."""
    n = len(corpus)
    rng = random.Random(n)
    naive = NaiveHybridRetriever(cache)
    build = timed(lambda: naive.load({f"m{i}": t for i, t in enumerate(corpus)}, NS), 1)[0]
    reps = 3 if n >= 100_000 else (5 if quick else 20)
    write = timed(lambda: naive.update(f"m{rng.randrange(n)}", rng.choice(fresh), NS), reps)
    query_iter = iter(queries * 10)
    n_queries = 20 if n >= 100_000 else len(queries)
    bm25_latency = timed(lambda: naive.lexical_ranking(next(query_iter), K, NS), n_queries)
    dense_latency = timed(lambda: naive.dense_ranking(next(query_iter), K, NS), n_queries)
    return {
        "build_s": build,
        "write_us": percentile_us(write, 50),
        "bm25_query_p50_us": percentile_us(bm25_latency, 50),
        "bm25_query_p95_us": percentile_us(bm25_latency, 95),
        "dense_query_p50_us": percentile_us(dense_latency, 50),
        "dense_query_p95_us": percentile_us(dense_latency, 95),
    }


KINDS = ("bm25", "dense-exact", "dense-hnsw", "hybrid")


def print_size(n: int, row: dict[str, Any]) -> None:
    print(f"\n== {n} entries (k={K}) ==")
    header = ("build s", "add us", "upd us", "del us", "q p50 us", "q p95 us")
    print(f"{'retriever':12s} " + " ".join(f"{h:>9s}" for h in header))
    keys = ("build_s", "add_us", "update_us", "delete_us", "query_p50_us", "query_p95_us")
    for kind in KINDS:
        print(f"{kind:12s} " + " ".join(f"{row[kind][key]:9.2f}" for key in keys))
    nv = row["naive"]
    print(
        f"naive: build {nv['build_s']:.2f} s, write {nv['write_us']:.0f} us, "
        f"bm25 query p50 {nv['bm25_query_p50_us']:.0f} us, "
        f"dense query p50 {nv['dense_query_p50_us']:.0f} us"
    )
    ratios = {
        "bm25 write": nv["write_us"] / row["bm25"]["add_us"],
        "bm25 query": nv["bm25_query_p50_us"] / row["bm25"]["query_p50_us"],
        "dense-exact query": nv["dense_query_p50_us"] / row["dense-exact"]["query_p50_us"],
        "dense-hnsw query": nv["dense_query_p50_us"] / row["dense-hnsw"]["query_p50_us"],
    }
    print("ratios vs naive: " + ", ".join(f"{k} {v:.1f}x" for k, v in ratios.items()))


def bench_cycle(
    cache: EmbeddingCache, texts: list[str], queries: list[str], reps: int
) -> dict[str, float]:
    """One write (add, update or delete in turn) then one hybrid query, on a 1k-entry bank."""
    corpus, fresh = texts[:1000], texts[1000:1400]
    bank = MemoryBank(make_retriever("hybrid", cache=cache))
    for text in corpus:
        bank.add(text)
    rng = random.Random(1)
    naive = NaiveHybridRetriever(cache)
    naive.load({e.id: e.text for e in bank.entries()}, NS)

    live = [e.id for e in bank.entries()]

    def step(i: int) -> None:
        if i % 3 == 0:
            live.append(bank.add(rng.choice(fresh)).id)
        elif i % 3 == 1:
            bank.update(rng.choice(live), rng.choice(fresh))
        else:
            bank.delete(live.pop(rng.randrange(len(live))))

    counter = iter(range(10**9))
    ours = timed(lambda: (step(next(counter)), bank.search(rng.choice(queries), K)), reps)
    naive_ids = iter(range(10**9))

    def naive_step() -> None:
        i = next(naive_ids)
        ids = list(naive.texts[NS])
        if i % 3 == 0:
            naive.add(f"n{i}", rng.choice(fresh), NS)
        elif i % 3 == 1:
            naive.update(rng.choice(ids), rng.choice(fresh), NS)
        else:
            naive.remove(rng.choice(ids), NS)
        naive.search(rng.choice(queries), K, NS)

    baseline = timed(naive_step, max(20, reps // 10))
    p50, base50 = percentile_us(ours, 50), percentile_us(baseline, 50)
    return {
        "p50_us": p50,
        "p95_us": percentile_us(ours, 95),
        "naive_p50_us": base50,
        "speedup": base50 / p50,
    }


def bench_snapshot(cache: EmbeddingCache, texts: list[str]) -> dict[str, float]:
    """Snapshot + restore of a 10k-entry hybrid bank (and a deep rebuild, for scale)."""
    bank = MemoryBank(make_retriever("hybrid", cache=cache))
    for text in texts[:10_000]:
        bank.add(text)

    def cycle() -> None:
        snap = bank.snapshot()
        bank.add("one more memory w1 w2")
        bank.restore(snap)

    samples = timed(cycle, 10)
    rebuild = timed(
        lambda: MemoryBank.from_state(
            bank.entries(), bank.log, bank.counter, make_retriever("hybrid", cache=cache)
        ),
        1,
    )
    return {
        "snapshot_restore_p50_ms": percentile_us(samples, 50) / 1000,
        "rebuild_ms": rebuild[0] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1k and 10k only; under a minute")
    parser.add_argument("--embedder", default="hashing-384")
    args = parser.parse_args()
    sizes = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]
    texts = synthetic_texts(max(sizes) + 1400)
    queries = [" ".join(t.split()[:4]) for t in synthetic_texts(200, seed=99)]
    cache = EmbeddingCache(make_embedder(args.embedder))
    cache.vectors(texts + queries)  # embeddings cached ahead, as in the envs
    report: dict[str, Any] = {"machine": machine(), "embedder": args.embedder, "k": K}
    for n in sizes:
        corpus, fresh = texts[:n], texts[n : n + 400]
        row: dict[str, Any] = {
            kind: bench_retriever(kind, cache, corpus, fresh, queries) for kind in KINDS
        }
        row["naive"] = bench_naive(cache, corpus, fresh, queries, args.quick)
        report[str(n)] = row
        print_size(n, row)
    report["cycle_1k_hybrid"] = cycle = bench_cycle(
        cache, texts, queries, 300 if args.quick else 2000
    )
    print(
        f"\nwrite+query cycle, 1k hybrid: p50 {cycle['p50_us']:.0f} us, "
        f"p95 {cycle['p95_us']:.0f} us; naive p50 {cycle['naive_p50_us']:.0f} us; "
        f"speedup {cycle['speedup']:.0f}x"
    )
    report["snapshot_10k_hybrid"] = snap = bench_snapshot(cache, texts)
    print(
        f"snapshot+restore, 10k hybrid: p50 {snap['snapshot_restore_p50_ms']:.1f} ms "
        f"(full rebuild {snap['rebuild_ms']:.0f} ms)"
    )
    emit(report)


if __name__ == "__main__":
    main()
