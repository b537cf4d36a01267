"""Train a memory manager's operation choice with stable-baselines3 PPO, on CPU.

The policy sees `FeatureObservation` vectors (similarities of the new fact to each retrieved
memory, lengths, bank size) and picks `(operation, slot)` through `DiscreteOperation`; texts
are filled in (ADD stores the fact, UPDATE a merge). The reward is the support score under the
`step` schedule. PPO trains on one split and is evaluated on held-out conversations against a
random policy and the offline managers, over several seeds.

    pip install -e '.[train]'
    python examples/train_sb3_manager.py --quick                  # bundled sample, < 5 min
    python examples/train_sb3_manager.py --data locomo10.json     # real LoCoMo (train -> test)

The last line is a JSON object with the held-out mean return of each policy.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from typing import Any

import numpy as np

from memgym.agents import make_manager
from memgym.envs import MemoryManagerEnv
from memgym.memory import Op
from memgym.wrappers import DiscreteOperation, FeatureObservation

Policy = Callable[[np.ndarray, MemoryManagerEnv], np.ndarray]


def make_env(args: argparse.Namespace, split: str) -> DiscreteOperation:
    env = MemoryManagerEnv(
        "locomo" if args.data else "sample",
        args.data,
        split,
        retriever=args.retriever,
        embedder=args.embedder,
        reward_schedule="step",
        answerer="support",
        observation_k=args.k,
        answer_k=args.answer_k,
        invalid_action_penalty=args.invalid_penalty,
    )
    return DiscreteOperation(FeatureObservation(env))


def manager_policy(name: str) -> Policy:
    manager = make_manager(name)

    def act(_: np.ndarray, env: MemoryManagerEnv) -> np.ndarray:
        fact = env.current_fact
        assert fact is not None
        decision = manager.decide(fact, env.visible_memories)
        return np.array([int(decision.op), decision.target or 0])

    return act


def random_policy(seed: int) -> Policy:
    rng = np.random.default_rng(seed)
    return lambda _obs, env: np.array([rng.integers(4), rng.integers(env.config.observation_k)])


def evaluate(env: DiscreteOperation, policy: Policy) -> float:
    """Mean undiscounted return over every held-out conversation."""
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    returns = []
    for conversation in base.dataset.conversations:
        obs, _ = env.reset(seed=0, options={"conversation_id": conversation.id})
        done, total = False, 0.0
        while not done:
            obs, reward, done, _, _ = env.step(policy(obs, base))
            total += float(reward)
        returns.append(total)
    return float(np.mean(returns))


def train_ppo(args: argparse.Namespace, seed: int) -> Policy:
    from stable_baselines3 import PPO

    model = PPO(
        "MlpPolicy",
        make_env(args, args.train_split),
        n_steps=128,
        batch_size=64,
        learning_rate=3e-4,
        ent_coef=0.01,
        gamma=0.99,
        seed=seed,
        verbose=0,
        device="cpu",
    )
    model.learn(total_timesteps=args.timesteps)
    return lambda obs, _env: model.predict(obs, deterministic=True)[0]


def action_histogram(env: DiscreteOperation, policy: Policy) -> dict[str, int]:
    """How often each operation is chosen on the held-out conversations (for diagnosis)."""
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    counts = {op.name: 0 for op in Op}
    for conversation in base.dataset.conversations:
        obs, _ = env.reset(seed=0, options={"conversation_id": conversation.id})
        done = False
        while not done:
            action = policy(obs, base)
            counts[Op(int(action[0])).name] += 1
            obs, _, done, _, _ = env.step(action)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="LoCoMo file (default: bundled sample)")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-split", default="test")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--timesteps", type=int, default=20_000)
    parser.add_argument("--retriever", default="bm25")
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--k", type=int, default=5, help="memories shown per fact")
    parser.add_argument(
        "--answer-k", type=int, default=30, help="memories retrieved per speaker for each question"
    )
    parser.add_argument(
        "--invalid-penalty", type=float, default=-0.1, help="reward of an invalid action"
    )
    parser.add_argument("--quick", action="store_true", help="fewer timesteps (under 5 minutes)")
    args = parser.parse_args()
    if args.quick:
        args.timesteps = min(args.timesteps, 6_000)
    held_out = make_env(args, args.eval_split)
    results: dict[str, list[float]] = {"ppo": [], "random": []}
    histograms = []
    for seed in range(args.seeds):
        policy = train_ppo(args, seed)
        results["ppo"].append(evaluate(held_out, policy))
        histograms.append(action_histogram(held_out, policy))
        results["random"].append(evaluate(held_out, random_policy(seed)))
    for name in ("add_all", "noop", "heuristic"):
        results[name] = [evaluate(held_out, manager_policy(name))]
    print(
        f"held-out split {args.eval_split!r}, {args.seeds} seeds, {args.timesteps} PPO timesteps "
        f"each, answer_k {args.answer_k}"
    )
    print(f"{'policy':10s} {'mean return':>12s} {'std':>8s} {'runs':>5s}")
    for name, values in results.items():
        spread = statistics.pstdev(values) if len(values) > 1 else 0.0
        print(f"{name:10s} {np.mean(values):12.4f} {spread:8.4f} {len(values):5d}")
    print("PPO operations on held-out facts, per seed:", histograms)
    summary: dict[str, Any] = {name: float(np.mean(values)) for name, values in results.items()}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
