"""Train a memory manager with stable-baselines3 PPO on CPU, and compare it with the rules on
a conversation it never trained on.

Two settings:

- **pressure** (`--memory-capacity F [F ...]`): whole-conversation episodes of raw turns
  (`--fact-source turns`, `--episode conversation`), each speaker's bank capped at a share F of
  that speaker's turn tokens. PPO sees `FeatureObservation(features="capacity")` (what the
  `salience` rule reads, plus the bank's room) and, by default (`--action keep`), keeps or
  skips each turn through `KeepOrSkip` (a kept turn that does not fit evicts the least salient
  shown memory that makes room); `--action operation` picks `(operation, slot)` through
  `DiscreteOperation(update="replace")` instead. One policy trains on every capacity of
  `--train-capacity` (one env each; default: the evaluated ones). Training reward (`--reward`):
  `support` (default), the dense ORACLE `SupportShapedReward` (the change in the share of
  questions some memory supports, paid on the step that causes it), or `session`, the env's
  `oracle_support` proxy paid at session boundaries. Held-out episodes are always scored by the
  env. Compared with `fill`, `evict`, `salience`, `supervised`, `random`, `noop` and the ORACLE
  `evidence`; the policy of the first seed is written with `--save` (safetensors + its feature
  definition, no pickle).
- **window** (no capacity): Memory-R1's training tuples, published observations, the `step`
  schedule and the similarity features, against add_all, heuristic and concat.

    pip install -e '.[train]'
    python examples/train_sb3_manager.py --quick                              # bundled sample
    python examples/train_sb3_manager.py --data locomo_conv26.json --train-split train \\
        --eval-data locomo_conv30.json --eval-split val \\
        --fact-source turns --episode conversation --memory-capacity 0.1 0.25 \\
        --train-capacity 0.05 0.1 0.15 0.2 0.25 0.3 --warm-start salience \\
        --timesteps 200000 --policy-net \\
        --save memgym/agents/weights/ppo_manager.safetensors              # the shipped `ppo`

The score of an episode is the share of its questions supported at the end (penalties
excluded); the return adds penalties. It prints progress with an ETA, then a table; the last
line is JSON with `returns.<policy>.mean` and `scores.<policy>.mean` for every policy, and
`ppo_beats.<policy>` (whether PPO's mean score is higher).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from memgym.agents import make_manager
from memgym.agents.policy import save_policy
from memgym.envs import MemoryManagerEnv
from memgym.memory import Op
from memgym.wrappers import DiscreteOperation, FeatureObservation, KeepOrSkip, SupportShapedReward

WINDOW_BASELINES = ("add_all", "noop", "heuristic", "concat")
PRESSURE_BASELINES = ("fill", "evict", "salience", "supervised", "noop", "evidence")
SEEDED = ("random",)
POLICY_K = 10  # memory slots shown (the env's default), read by the policy and targeted by it


def pressure(args: argparse.Namespace) -> bool:
    return bool(args.memory_capacity)


def make_env(
    args: argparse.Namespace,
    data: str | None,
    split: str,
    capacity: float | None,
    training: bool = False,
) -> gym.Env[Any, Any]:
    """The env a policy acts in: held-out episodes always pay the env's own reward."""
    shaped = training and pressure(args) and args.reward == "support"
    env = MemoryManagerEnv(
        "locomo" if data else "sample",
        data,
        split,
        fact_source=args.fact_source,
        episode=args.episode,
        retriever=args.retriever,
        embedder=args.embedder,
        reward_schedule="episode" if shaped else ("session" if pressure(args) else "step"),
        answerer="oracle_support",
        observation_k=args.k,
        memory_capacity=capacity,
        invalid_action_penalty=args.invalid_penalty,
    )
    if not pressure(args):
        return DiscreteOperation(FeatureObservation(env))
    features = FeatureObservation(env, features="capacity", k=args.k)
    if args.action == "keep":
        acting: gym.Env[Any, Any] = KeepOrSkip(features)
    else:
        acting = DiscreteOperation(features, update="replace", k=args.k)
    return SupportShapedReward(acting) if shaped else acting


Act = Callable[[np.ndarray, MemoryManagerEnv], Any]  # an action for the wrapped or the base env


def manager_policy(name: str, base: MemoryManagerEnv, seed: int = 0) -> Act:
    """A named manager stepping the base env with its own decisions (and the bank's state).
    The ORACLE `evidence` gets the golds of the conversation it manages, and only those."""
    words = base.config.max_memory_words
    managers: dict[str, Any] = {}

    def act(_: np.ndarray, env: MemoryManagerEnv) -> Any:
        fact, bank, memory = env.current_fact, env.bank_state(), env.memory
        assert fact is not None and bank is not None and memory is not None
        key = memory.conversation.id if name == "evidence" else ""
        if key not in managers:
            evidence = {t for q in memory.conversation.questions for t in q.evidence_turn_ids}
            managers[key] = make_manager(
                name, seed=seed, evidence_turn_ids=evidence, max_memory_words=words
            )
        return memory.decide(managers[key], fact, env.visible_memories, bank.step, bank.n_facts)

    act.base = True  # type: ignore[attr-defined]
    return act


def evaluate(env: gym.Env[Any, Any], policy: Act) -> dict[str, Any]:
    """Mean return and final score over every held-out episode, and the operations applied."""
    base = env.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    stepper = base if getattr(policy, "base", False) else env
    returns, scores, counts = [], [], {op.name: 0 for op in Op}
    invalid = 0
    for index in range(base.episodes):
        obs, _ = env.reset(seed=0, options={"episode_index": index})
        done, total, info = False, 0.0, {}
        while not done:
            obs, reward, done, _, info = stepper.step(policy(obs, base))  # type: ignore[attr-defined]
            total += float(reward)
        returns.append(total)
        scores.append(float(info["episode_score"]))
        invalid += int(info["invalid_actions"])
        for op, n in info["op_counts"].items():
            counts[op] += n
    return {
        "return": float(np.mean(returns)),
        "score": float(np.mean(scores)),
        "operations": counts,
        "invalid": invalid,
    }


class Progress:
    """An SB3 callback that prints steps done, steps per second and an ETA."""

    def __init__(self, total: int, label: str, every: int = 5000) -> None:
        from stable_baselines3.common.callbacks import BaseCallback

        outer = self

        class Callback(BaseCallback):  # type: ignore[misc]
            def _on_step(self) -> bool:
                if self.num_timesteps // outer.every > outer.reported:
                    outer.reported = self.num_timesteps // outer.every
                    outer.report(self.num_timesteps)
                return True

        self.callback = Callback()
        self.total, self.label, self.every, self.reported = total, label, every, 0
        self.started = time.perf_counter()

    def report(self, done: int) -> None:
        rate = done / max(time.perf_counter() - self.started, 1e-9)
        eta = (self.total - done) / rate if rate else float("inf")
        print(
            f"  {self.label}: {done}/{self.total} steps, {rate:.0f} steps/s, ETA {eta:.0f} s",
            file=sys.stderr,
            flush=True,
        )


def demonstrations(
    args: argparse.Namespace, envs: list[gym.Env[Any, Any]], rule: str
) -> tuple[np.ndarray, np.ndarray]:
    """(features, discrete action) pairs of `rule` on the training episodes: what the warm
    start imitates. UPDATE by a capacity rule is an eviction, as `update="replace"` makes it;
    under `--action keep` every ADD or UPDATE is a keep."""
    observations, actions = [], []
    for env in envs:
        base = env.unwrapped
        assert isinstance(base, MemoryManagerEnv)
        act = manager_policy(rule, base)
        for index in range(base.episodes):
            obs, _ = env.reset(seed=0, options={"episode_index": index})
            done = False
            while not done:
                decision = act(obs, base)
                if args.action == "keep":
                    action = [int(decision.op in (Op.ADD, Op.UPDATE))]
                else:
                    action = [int(decision.op), decision.target or 0]
                observations.append(obs)
                actions.append(action)
                obs, _, done, _, _ = env.step(np.asarray(action[0] if len(action) == 1 else action))
    return np.asarray(observations, np.float32), np.asarray(actions, np.int64)


def imitate(model: Any, observations: np.ndarray, actions: np.ndarray, seed: int) -> float:
    """Fit the actor to the demonstrations (cross-entropy, each operation weighted by the
    inverse of its frequency so that the rare ADDs and evictions are not drowned by NOOPs;
    100 epochs); returns the share of demonstrated actions it reproduces."""
    import torch

    policy = model.policy
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.as_tensor(observations), torch.as_tensor(actions)
    counts = torch.bincount(y[:, 0], minlength=len(Op)).clamp(min=1).float()
    weights = (1.0 / counts)[y[:, 0]]
    weights = weights / weights.mean()
    if y.shape[1] == 1:  # a Discrete action (keep or skip) is a scalar per step
        y = y[:, 0]
    optimiser = torch.optim.Adam(policy.parameters(), lr=1e-3)
    for _ in range(100):
        for batch in torch.randperm(len(x), generator=generator).split(256):
            _, log_prob, _ = policy.evaluate_actions(x[batch], y[batch])
            loss = -(weights[batch] * log_prob).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    with torch.no_grad():
        predicted = policy.get_distribution(x).mode()
    return float((predicted == y).reshape(len(y), -1).all(dim=1).float().mean())


def train_ppo(args: argparse.Namespace, seed: int) -> Any:
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    capacities = args.train_capacity or args.memory_capacity or [None]
    training = [make_env(args, args.data, args.train_split, c, training=True) for c in capacities]
    envs = DummyVecEnv([(lambda e=e: e) for e in training])  # type: ignore[misc]
    model = PPO(
        "MlpPolicy",
        envs,
        n_steps=args.n_steps,
        batch_size=256 if pressure(args) else 64,
        learning_rate=args.learning_rate,
        ent_coef=0.01,
        gamma=args.gamma,
        policy_kwargs={"net_arch": {"pi": args.policy_net, "vf": [64, 64]}},
        seed=seed,
        verbose=0,
        device="cpu",
    )
    if args.warm_start:
        accuracy = imitate(model, *demonstrations(args, training, args.warm_start), seed)
        print(f"  warm start: imitates {args.warm_start} ({accuracy:.3f} of its actions)")
    progress = Progress(args.timesteps, f"PPO seed {seed}")
    if args.timesteps:
        model.learn(total_timesteps=args.timesteps, callback=progress.callback)
    return model


def model_policy(model: Any) -> Act:
    return lambda obs, _env: model.predict(obs, deterministic=True)[0]


def export(model: Any, path: str, args: argparse.Namespace, seed: int) -> None:
    """The trained actor as a policy file (tanh MLP and action head; no pickle)."""
    policy = model.policy
    linears = [m for m in policy.mlp_extractor.policy_net if hasattr(m, "weight")]
    layers = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in linears]
    head = (policy.action_net.weight.detach().numpy(), policy.action_net.bias.detach().numpy())
    reward = {
        "support": "SupportShapedReward (ORACLE: oracle_support's test on the whole bank)",
        "session": "oracle_support (ORACLE proxy), session schedule",
    }[args.reward]
    training = {
        "algorithm": "stable-baselines3 PPO (MlpPolicy, tanh; actor hidden layers "
        f"{args.policy_net}, critic [64, 64]; gamma {args.gamma})",
        "data": args.data or "bundled sample",
        "split": args.train_split,
        "fact_source": args.fact_source,
        "episode": args.episode,
        "memory_capacity": args.train_capacity or args.memory_capacity,
        "reward": reward,
        "warm_start": args.warm_start,
        "timesteps": args.timesteps,
        "seed": seed,
    }
    save_policy(
        path, layers, head, args.k, "keep" if args.action == "keep" else "replace", training
    )


def summarise(values: list[float]) -> dict[str, Any]:
    spread = statistics.pstdev(values) if len(values) > 1 else 0.0
    return {"mean": float(np.mean(values)), "std": spread, "runs": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="LoCoMo file to train on (default: sample)")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--eval-data", default=None, help="held-out file (default: --data)")
    parser.add_argument("--eval-split", default="test")
    parser.add_argument("--fact-source", choices=["dataset", "turns"], default=None)
    parser.add_argument("--episode", choices=["conversation", "window"], default=None)
    parser.add_argument(
        "--memory-capacity",
        type=float,
        nargs="*",
        default=[],
        help="shares of each speaker's tokens (the pressure setting; one env each)",
    )
    parser.add_argument(
        "--train-capacity",
        type=float,
        nargs="*",
        default=[],
        help="capacities PPO trains on (default: --memory-capacity)",
    )
    parser.add_argument("--action", choices=["keep", "operation"], default="keep")
    parser.add_argument("--reward", choices=["support", "session"], default="support")
    parser.add_argument("--gamma", type=float, default=None, help="default 0.999 under pressure")
    parser.add_argument(
        "--policy-net",
        type=int,
        nargs="*",
        default=[64, 64],
        help="the actor's hidden layers (none: a linear policy over the features)",
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="seeds run are first-seed .. first-seed+seeds-1"
    )
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--n-steps", type=int, default=None, help="PPO rollout length per env")
    parser.add_argument("--retriever", default="bm25")
    parser.add_argument("--embedder", default="hashing")
    parser.add_argument("--k", type=int, default=None, help="memories shown per fact")
    parser.add_argument("--invalid-penalty", type=float, default=-0.1)
    parser.add_argument("--save", default=None, help="write the first seed's policy file here")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument(
        "--warm-start",
        default=None,
        help="imitate this rule's decisions on the training episodes before PPO (e.g. salience)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one seed, 6,000 timesteps (a few minutes)"
    )
    args = parser.parse_args()
    under_pressure = pressure(args)
    args.fact_source = args.fact_source or ("turns" if under_pressure else "dataset")
    args.episode = args.episode or ("conversation" if under_pressure else "window")
    args.k = args.k or POLICY_K
    args.gamma = args.gamma or (0.999 if under_pressure else 0.99)
    if args.timesteps is None:
        args.timesteps = 150_000 if under_pressure else 20_000
    args.n_steps = args.n_steps or (1024 if under_pressure else 256)
    if args.quick:
        args.seeds, args.timesteps = 1, min(args.timesteps, 6_000)
    eval_data = args.eval_data or args.data
    capacities = args.memory_capacity or [None]
    held_out = {c: make_env(args, eval_data, args.eval_split, c) for c in capacities}
    baselines = PRESSURE_BASELINES if under_pressure else WINDOW_BASELINES
    started = time.perf_counter()
    runs: dict[str, dict[Any, list[dict[str, Any]]]] = {}

    def record(name: str, capacity: Any, outcome: dict[str, Any]) -> None:
        runs.setdefault(name, {}).setdefault(capacity, []).append(outcome)

    for seed in range(args.first_seed, args.first_seed + args.seeds):
        model = train_ppo(args, seed)
        if args.save and seed == args.first_seed:
            export(model, args.save, args, seed)
        for capacity, env in held_out.items():
            record("ppo", capacity, evaluate(env, model_policy(model)))
            base = env.unwrapped
            assert isinstance(base, MemoryManagerEnv)
            record("random", capacity, evaluate(env, manager_policy("random", base, seed)))
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    for capacity, env in held_out.items():
        base = env.unwrapped
        assert isinstance(base, MemoryManagerEnv)
        for name in baselines:
            record(name, capacity, evaluate(env, manager_policy(name, base)))
    setting = (
        f"pressure: {args.fact_source}, {args.episode} episodes, capacity {capacities}"
        if under_pressure
        else f"window tuples of {args.fact_source} facts"
    )
    print(
        f"train {args.data or 'sample'} [{args.train_split}] -> held-out {eval_data or 'sample'} "
        f"[{args.eval_split}]; {setting}; {args.seeds} seeds x {args.timesteps} PPO steps; "
        "oracle_support reward (ORACLE proxy)"
    )
    print(f"{'policy':11s} {'capacity':>8s} {'score':>8s} {'std':>7s} {'return':>8s} {'runs':>5s}")
    returns: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for name, by_capacity in runs.items():
        every = [o for outcomes in by_capacity.values() for o in outcomes]
        returns[name] = summarise([o["return"] for o in every])
        scores[name] = summarise([o["score"] for o in every])
        scores[name]["by_capacity"] = {}
        for capacity, outcomes in by_capacity.items():
            cell = summarise([o["score"] for o in outcomes])
            scores[name]["by_capacity"][str(capacity)] = cell
            print(
                f"{name:11s} {capacity!s:>8s} {cell['mean']:8.4f} {cell['std']:7.4f} "
                f"{np.mean([o['return'] for o in outcomes]):8.4f} {cell['runs']:5d}"
            )
        operations[name] = {str(c): [o["operations"] for o in v] for c, v in by_capacity.items()}
    print("operations on held-out facts:", json.dumps(operations))
    beats = {n: bool(scores["ppo"]["mean"] > scores[n]["mean"]) for n in scores if n != "ppo"}
    print(
        json.dumps(
            {
                "setting": setting,
                "returns": returns,
                "scores": scores,
                "ppo_beats": beats,
                "operations": operations,
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
