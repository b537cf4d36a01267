"""Train a memory manager's operation choice with stable-baselines3 PPO, on CPU.

Episodes are Memory-R1's training tuples (`episode="window"`): a reference manager builds the
bank from the turns before t, the policy handles the facts of turn t, the questions completing
at t score it. The policy sees `FeatureObservation` vectors (similarities of the new fact to
each shown memory, lengths, bank size) and picks `(operation, slot)` through
`DiscreteOperation` (ADD stores the fact, UPDATE a merge that fits the word limit). The reward
is the honest offline proxy (`oracle_support`: the reader's context within its token budget,
each answer part in one statement of one memory) under the `step` schedule. PPO trains on one
file/split and is evaluated on held-out tuples against random, noop, add_all, heuristic and
the adversarial concat manager, over several seeds.

    pip install -e '.[train]'
    python examples/train_sb3_manager.py --quick                       # bundled sample
    python examples/train_sb3_manager.py --data locomo_conv26.json --train-split train \\
        --eval-data locomo_conv30.json --eval-split val                # Memory-R1's split

It prints progress with an ETA, then a table; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from memgym.agents import make_manager
from memgym.envs import MemoryManagerEnv
from memgym.memory import Op
from memgym.wrappers import DiscreteOperation, FeatureObservation

Policy = Callable[[np.ndarray, MemoryManagerEnv], np.ndarray]
BASELINES = ("add_all", "noop", "heuristic", "concat")


def make_env(args: argparse.Namespace, data: str | None, split: str) -> DiscreteOperation:
    env = MemoryManagerEnv(
        "locomo" if data else "sample",
        data,
        split,
        episode="window",
        retriever=args.retriever,
        embedder=args.embedder,
        reward_schedule="step",
        answerer="oracle_support",
        observation_k=args.k,
        invalid_action_penalty=args.invalid_penalty,
    )
    return DiscreteOperation(FeatureObservation(env))


def manager_policy(name: str, seed: int = 0) -> Policy:
    manager = make_manager(name, seed=seed)

    def act(_: np.ndarray, env: MemoryManagerEnv) -> np.ndarray:
        fact = env.current_fact
        assert fact is not None
        decision = manager.decide(fact, env.visible_memories)
        return np.array([int(decision.op), decision.target or 0])

    return act


def evaluate(env: DiscreteOperation, policy: Policy) -> tuple[float, dict[str, int]]:
    """Mean undiscounted return over every held-out tuple, and the operations chosen."""
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    returns, counts = [], {op.name: 0 for op in Op}
    for index in range(base.episodes):
        obs, _ = env.reset(seed=0, options={"episode_index": index})
        done, total = False, 0.0
        while not done:
            action = policy(obs, base)
            counts[Op(int(action[0])).name] += 1
            obs, reward, done, _, _ = env.step(action)
            total += float(reward)
        returns.append(total)
    return float(np.mean(returns)), counts


class Progress:
    """An SB3 callback that prints steps done, steps per second and an ETA."""

    def __init__(self, total: int, label: str, every: int = 2000) -> None:
        from stable_baselines3.common.callbacks import BaseCallback

        outer = self

        class Callback(BaseCallback):  # type: ignore[misc]
            def _on_step(self) -> bool:
                if self.num_timesteps % outer.every == 0:
                    outer.report(self.num_timesteps)
                return True

        self.callback = Callback()
        self.total, self.label, self.every = total, label, every
        self.started = time.perf_counter()

    def report(self, done: int) -> None:
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        eta = (self.total - done) / rate if rate else float("inf")
        print(
            f"  {self.label}: {done}/{self.total} steps, {rate:.0f} steps/s, ETA {eta:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def train_ppo(args: argparse.Namespace, seed: int) -> Policy:
    from stable_baselines3 import PPO

    model = PPO(
        "MlpPolicy",
        make_env(args, args.data, args.train_split),
        n_steps=256,
        batch_size=64,
        learning_rate=3e-4,
        ent_coef=0.01,
        gamma=0.99,
        seed=seed,
        verbose=0,
        device="cpu",
    )
    progress = Progress(args.timesteps, f"PPO seed {seed}")
    model.learn(total_timesteps=args.timesteps, callback=progress.callback)
    return lambda obs, _env: model.predict(obs, deterministic=True)[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="LoCoMo file to train on (default: sample)")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-data", default=None, help="held-out file (default: --data)")
    parser.add_argument("--eval-split", default="test")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--retriever", default="bm25")
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--k", type=int, default=5, help="memories shown per fact")
    parser.add_argument("--invalid-penalty", type=float, default=-0.1)
    parser.add_argument(
        "--quick", action="store_true", help="one seed, 6,000 timesteps (a few minutes)"
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.timesteps = 1, min(args.timesteps, 6_000)
    eval_data = args.eval_data or args.data
    held_out = make_env(args, eval_data, args.eval_split)
    started = time.perf_counter()
    results: dict[str, list[float]] = {"ppo": [], "random": []}
    histograms: dict[str, Any] = {"ppo": []}
    for seed in range(args.seeds):
        mean, counts = evaluate(held_out, train_ppo(args, seed))
        results["ppo"].append(mean)
        histograms["ppo"].append(counts)
        results["random"].append(evaluate(held_out, manager_policy("random", seed))[0])
        print(
            f"seed {seed}: PPO {mean:.4f} ({time.perf_counter() - started:.0f} s)",
            file=sys.stderr,
            flush=True,
        )
    for name in BASELINES:
        mean, histograms[name] = evaluate(held_out, manager_policy(name))
        results[name] = [mean]
    print(
        f"train {args.data or 'sample'} [{args.train_split}] -> held-out {eval_data or 'sample'} "
        f"[{args.eval_split}]: {held_out.unwrapped.episodes} tuples; {args.seeds} seeds x "  # type: ignore[attr-defined]
        f"{args.timesteps} PPO steps; oracle_support reward (ORACLE proxy), step schedule"
    )
    print(f"{'policy':10s} {'mean return':>12s} {'std':>8s} {'runs':>5s}")
    summary: dict[str, Any] = {}
    for name, values in results.items():
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        summary[name] = {"mean": float(np.mean(values)), "std": spread, "runs": len(values)}
        print(f"{name:10s} {np.mean(values):12.4f} {spread:8.4f} {len(values):5d}")
    print("operations on held-out facts:", json.dumps(histograms))
    beats = {b: bool(summary["ppo"]["mean"] > summary[b]["mean"]) for b in ("random", *BASELINES)}
    print(
        json.dumps(
            {
                "returns": summary,
                "ppo_beats": beats,
                "operations": histograms,
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
