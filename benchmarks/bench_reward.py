"""Reward throughput with a real (LLM) reader: batching and the shared answer cache.

A local OpenAI-compatible server answers every request after a fixed latency (a stand-in for a
GPU server). MemoryManagerEnv runs window episodes under the `step` schedule, rewarded by the
LLM answerer through that server, in GRPO groups (G forks of one start, each taking its own
action) of size 1 and 8. Measured in the same run: env steps per second with memgym's reward
path (every question of a step in one batch call, answers cached by reader, question and
context, shared by the group) against the unbatched, uncached path (one call per question per
step), and reader calls per step.

    python benchmarks/bench_reward.py [--quick] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import emit, machine
from fake_llm_server import ServerState, fake_llm_server

from memgym.agents import LLMAnswerer, OpenAICompatibleClient
from memgym.agents.answer_cache import CacheStats
from memgym.agents.base import Answer, AskedQuestion, RetrievedMemory
from memgym.envs import MemoryManagerEnv
from memgym.envs.rewards import QuestionScorer
from memgym.integrations.groups import group_starts


class OneCallPerQuestion:
    """The baseline reader path: no cache, one call per question."""

    name = "llm"

    def __init__(self, inner: LLMAnswerer) -> None:
        self.inner = inner
        self.stats = CacheStats()

    def answer(self, question: AskedQuestion, memories: Sequence[RetrievedMemory]) -> Answer:
        return self.inner.answer(question, memories)

    def answer_batch(
        self, items: Sequence[tuple[AskedQuestion, Sequence[RetrievedMemory]]]
    ) -> list[Answer]:
        self.stats.misses += len(items)
        return [self.answer(q, m) for q, m in items]


def run(url: str, group: int, episodes: int, cached: bool, cache_dir: Path) -> dict[str, Any]:
    """Steps per second over `episodes` window episodes, each played by a group of `group`
    (only `step` is timed: starting an episode costs the same on both paths)."""
    reader = {"base_url": url, "model": "fake", "concurrency": 32}
    env = MemoryManagerEnv(
        retriever="bm25",
        split="all",
        episode="window",
        window=8,
        reward_schedule="step",
        answerer="llm",
        reader=reader,
        reward_cache_dir=cache_dir,  # a cache of its own: no answers from an earlier run
    )
    client = OpenAICompatibleClient(url, "fake", concurrency=32)
    if not cached:
        baseline = OneCallPerQuestion(LLMAnswerer(client))
        env.rewards.scorer = QuestionScorer(baseline, env.scorer.metric)  # type: ignore[arg-type]
    steps, seconds = 0, 0.0
    for index in range(episodes):
        members = group_starts(env, group, seed=index, options={"episode_index": index})
        for member_index, (member, _) in enumerate(members):
            done = False
            while not done:
                fact = member.current_fact
                assert fact is not None
                # Members differ: half store the fact, half keep the bank as it is.
                store = {"op": 0, "target": -1, "text": fact.text}
                action = store if member_index % 2 == 0 else "NONE"
                started = time.perf_counter()
                *_, done, _, _ = member.step(action)
                seconds += time.perf_counter() - started
                steps += 1
    return {"steps": steps, "steps_per_s": steps / seconds, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--latency", type=float, default=0.05, help="server seconds per request")
    args = parser.parse_args()
    episodes = 4 if args.quick else 16
    state = ServerState(behaviours=[f"delay:{args.latency}"], reply=lambda body: "**Answer:** x")
    out: dict[str, Any] = {"latency_s": args.latency, "episodes": episodes, "machine": machine()}
    with fake_llm_server(state) as url, tempfile.TemporaryDirectory() as tmp:
        run(url, 1, 1, cached=True, cache_dir=Path(tmp) / "warm-up")  # loads and tokenizers
        for group in (1, 8):
            before = len(state.requests)
            fast = run(url, group, episodes, cached=True, cache_dir=Path(tmp) / f"g{group}")
            fast["reader_calls"] = len(state.requests) - before
            before = len(state.requests)
            slow = run(url, group, episodes, cached=False, cache_dir=Path(tmp) / f"b{group}")
            slow["reader_calls"] = len(state.requests) - before
            out[f"group_{group}"] = {
                "batched_cached": fast,
                "unbatched_uncached": slow,
                "speedup": fast["steps_per_s"] / slow["steps_per_s"],
                "calls_per_step": {
                    "batched_cached": fast["reader_calls"] / fast["steps"],
                    "unbatched_uncached": slow["reader_calls"] / slow["steps"],
                },
            }
            print(
                f"group {group}: {fast['steps_per_s']:.1f} steps/s batched+cached vs "
                f"{slow['steps_per_s']:.1f} unbatched+uncached ({out[f'group_{group}']['speedup']:.1f}x); "
                f"reader calls per step {fast['reader_calls'] / fast['steps']:.2f} vs "
                f"{slow['reader_calls'] / slow['steps']:.2f}"
            )
    emit(out)


if __name__ == "__main__":
    main()
