"""Scale benchmark: the leaderboard on LongMemEval-S-shaped data, locally and on Ray.

Synthetic LongMemEval records (`memgym.data.synthetic`, deterministic; never real data) are
evaluated by `memgym eval` in a child process, with the heuristic manager and the offline
extractive reader. Measured in one run:

1. backends: questions per second and peak RSS per process for `--workers 1`, `--workers 2`
   and `--ray` (a local Ray of 2 CPUs), hybrid retrieval with the MiniLM embedder, embeddings
   cold (empty cache) then cached (the same cache again), and BM25 alone;
2. growth: seconds per instance as sessions per instance grow 10 -> 50 -> 200, for BM25 and
   for hybrid (cold and cached);
3. the LLM path: a local OpenAI-compatible server answering after a fixed latency (200 ms);
   questions per second with `--answerer llm` at concurrency 1 (sequential), 8, 32 and 128,
   and the client alone (512 calls in one batch at concurrency 128).

Wall time includes each process's start and model load, as a user's run does. Peak RSS is the
high-water mark (VmHWM) of every process of the run's tree, sampled from /proc.

    python benchmarks/bench_scale.py [--quick] [--instances N] [--skip-ray] [--parts ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import emit, machine
from fake_llm_server import ServerState, fake_llm_server

from memgym.agents import OpenAICompatibleClient
from memgym.data.synthetic import write_longmemeval

SESSIONS, TURNS, WORDS = 50, 10, 20  # LongMemEval-S has about 50 sessions per instance
LATENCY = 0.2
PARTS = ("backends", "growth", "llm")


class TreeMemory:
    """Peak RSS (VmHWM, MB) of a process and all its descendants, sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        self.root, self.peaks = pid, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> dict[int, float]:
        self._stop.set()
        self._thread.join()
        return self.peaks

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for pid in self._tree():
                peak = _hwm_mb(pid)
                if peak is not None:
                    self.peaks[pid] = max(self.peaks.get(pid, 0.0), peak)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree


def _hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def eval_run(data: Path, out: Path, cache: Path, *options: str) -> dict[str, Any]:
    """`memgym eval` on `data` in a child process: wall seconds, questions/s, peak RSS."""
    command = [
        sys.executable, "-m", "memgym", "eval", "--dataset", "longmemeval", "--data", str(data),
        "--out", str(out), "--restart", "--no-progress", *options,
    ]  # fmt: skip
    env = dict(os.environ, MEMGYM_CACHE_DIR=str(cache), HF_HUB_OFFLINE="1")
    start = time.perf_counter()
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    memory = TreeMemory(child.pid)
    _, stderr = child.communicate()
    seconds = time.perf_counter() - start
    peaks = memory.stop()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    results = json.loads((out / "results.json").read_text())
    questions = results["summary"]["n_questions"]
    workers = sorted(peaks.values(), reverse=True)
    return {
        "seconds": seconds,
        "questions": questions,
        "questions_per_s": questions / seconds,
        "peak_rss_mb_max": workers[0] if workers else None,
        "processes": len(workers),
    }


def bench_backends(folder: Path, instances: int, ray: bool) -> dict[str, Any]:
    data = folder / f"lme_{instances}.json"
    write_longmemeval(data, instances, SESSIONS, TURNS, words_per_turn=WORDS)
    out: dict[str, Any] = {"data_mb": data.stat().st_size / 2**20}
    backends = {"workers1": ["--workers", "1"], "workers2": ["--workers", "2"]}
    if ray:
        backends["ray2"] = ["--ray", "--workers", "2"]
    for name, options in backends.items():
        cache = folder / f"cache-{name}"
        for phase in ("cold", "cached"):
            out[f"{name}/hybrid/{phase}"] = row = eval_run(
                data, folder / "out", cache, "--retriever", "hybrid", *options
            )
            _print(f"{name}/hybrid/{phase}", row)
        out[f"{name}/bm25"] = row = eval_run(
            data, folder / "out", cache, "--retriever", "bm25", *options
        )
        _print(f"{name}/bm25", row)
    return out


def bench_growth(folder: Path, instances: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for sessions in (10, 50, 200):
        data = folder / f"growth_{sessions}.json"
        write_longmemeval(data, instances, sessions, TURNS, words_per_turn=WORDS)
        cache = folder / f"cache-growth-{sessions}"
        for name, options in (
            ("bm25", ["--retriever", "bm25"]),
            ("hybrid/cold", ["--retriever", "hybrid"]),
            ("hybrid/cached", ["--retriever", "hybrid"]),
        ):
            row = eval_run(data, folder / "out", cache, *options)
            row["seconds_per_instance"] = row["seconds"] / instances
            out[f"{sessions}/{name}"] = row
            _print(f"sessions {sessions} {name}", row, per_instance=True)
    return out


def _scripted_reply(body: dict[str, Any]) -> str:
    return "[0]\n**Answer:** not sure"


def bench_llm(folder: Path, instances: int) -> dict[str, Any]:
    """Questions/s of the LLM reader path at several concurrencies (1 = sequential)."""
    data = folder / f"llm_{instances}.json"
    write_longmemeval(data, instances, 3, 2, words_per_turn=WORDS)
    out: dict[str, Any] = {}
    state = ServerState(behaviours=[f"delay:{LATENCY}"], reply=_scripted_reply)
    with fake_llm_server(state) as url:
        for concurrency in (1, 8, 32, 128):
            state.max_in_flight = 0
            options = [
                "--retriever", "bm25", "--answerer", "llm", "--base-url", url,
                "--model", "fake", "--concurrency", str(concurrency),
            ]  # fmt: skip
            # An output folder of its own: a rerun in one folder would take every reply from
            # the run's reply cache and measure no server at all.
            run_folder = folder / f"out-llm-{concurrency}"
            row = eval_run(data, run_folder, folder / "cache-llm", *options)
            row["max_in_flight"] = state.max_in_flight
            out[f"concurrency{concurrency}"] = row
            _print(f"llm concurrency {concurrency}", row)
        out["client_only"] = _client_only(url, state)
    base = out["concurrency1"]["questions_per_s"]
    for row in out.values():
        row["speedup_vs_sequential"] = row["questions_per_s"] / base
    return out


def _client_only(url: str, state: ServerState, requests: int = 512) -> dict[str, Any]:
    """The client alone: `requests` calls in one batch at concurrency 128 (no evaluation work
    between calls), to tell the client's ceiling from the run's."""
    state.max_in_flight = 0
    client = OpenAICompatibleClient(url, "fake", concurrency=128)
    start = time.perf_counter()
    client.complete_batch([[{"role": "user", "content": "ping"}]] * requests)
    seconds = time.perf_counter() - start
    row = {"seconds": seconds, "questions": requests, "questions_per_s": requests / seconds}
    row.update(max_in_flight=state.max_in_flight, peak_rss_mb_max=None, processes=1)
    _print("client alone, concurrency 128", row)
    return row


def _print(label: str, row: dict[str, Any], per_instance: bool = False) -> None:
    extra = f"{row['seconds_per_instance']:8.2f} s/instance" if per_instance else ""
    print(
        f"{label:28s} {row['seconds']:8.1f} s {row['questions_per_s']:8.2f} q/s "
        f"peak {row['peak_rss_mb_max'] or 0:6.0f} MB ({row['processes']} proc) {extra}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="50 instances instead of 500")
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--skip-ray", action="store_true", help="when Ray is not installed")
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure"
    )
    args = parser.parse_args()
    instances = args.instances or (50 if args.quick else 500)
    report: dict[str, Any] = {
        "machine": machine(),
        "cpus": os.cpu_count(),
        "shape": {"instances": instances, "sessions": SESSIONS, "turns": TURNS, "words": WORDS},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "backends" in args.parts:
            report["backends"] = bench_backends(folder, instances, not args.skip_ray)
        if "growth" in args.parts:
            report["growth"] = bench_growth(folder, 3 if args.quick else 10)
        if "llm" in args.parts:
            report["llm"] = bench_llm(folder, 256 if args.quick else 1024)
    emit(report)


if __name__ == "__main__":
    main()
