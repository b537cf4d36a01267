"""Policy-gradient training of a memory manager with rollouts on Ray (Ray core actors).

Two (or more) Ray actors each step a vector of `MemoryManagerEnv-features-v0` envs with the
driver's current linear softmax policy; the driver gathers the batches and takes a REINFORCE
step (reward-to-go, mean baseline). RLlib is not used: RLlib 2.60 pins gymnasium 1.2.2 and
memgym runs on 1.4, while Ray core has no such pin.

    pip install -e '.[ray]'
    python examples/train_ray_rollouts.py --quick                 # 2 actors, bundled sample
    python examples/train_ray_rollouts.py --address auto --workers 8 --data locomo10.json

The last line is JSON: mean episode return per iteration.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from memgym.integrations.ray_rollouts import make_workers


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def rewards_to_go(rewards: np.ndarray, dones: np.ndarray, gamma: float) -> np.ndarray:
    """Discounted returns within each env's episodes (time x envs)."""
    out = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1])
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running * (1.0 - dones[t])
        out[t] = running
    return out


def gradient(params: np.ndarray, batch: dict[str, Any], gamma: float) -> np.ndarray:
    """REINFORCE gradient of the linear softmax policy over one worker's batch."""
    x = batch["observations"].reshape(-1, params.shape[1])
    actions = batch["actions"].reshape(-1, 2)
    advantage = rewards_to_go(batch["rewards"], batch["dones"].astype(float), gamma).reshape(-1)
    advantage = advantage - advantage.mean()
    logits = x @ params.T
    grad = np.zeros_like(params)
    for head, (start, stop) in enumerate(((0, 4), (4, params.shape[0]))):
        probabilities = softmax(logits[:, start:stop])
        onehot = np.eye(stop - start)[actions[:, head]]
        grad[start:stop] = ((onehot - probabilities) * advantage[:, None]).T @ x
    return grad / len(x)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--address", default=None, help="Ray cluster (default: a local Ray)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--envs-per-worker", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--steps", type=int, default=64, help="steps per env per iteration")
    parser.add_argument("--learning-rate", type=float, default=0.5)
    parser.add_argument("--data", default=None, help="LoCoMo file (default: bundled sample)")
    parser.add_argument("--quick", action="store_true", help="3 iterations of 16 steps")
    args = parser.parse_args()
    if args.quick:
        args.iterations, args.steps = 3, 16
    import ray

    ray.init(
        address=args.address,
        num_cpus=None if args.address else args.workers,
        include_dashboard=False,
        log_to_driver=False,
    )
    env_kwargs: dict[str, Any] = {
        "retriever": "bm25",
        "reward_schedule": "step",
        "observation_k": 5,
    }
    if args.data:
        env_kwargs.update(dataset="locomo", data=args.data)
    workers = make_workers(
        args.workers, env_kwargs=env_kwargs, envs_per_worker=args.envs_per_worker
    )
    k = env_kwargs["observation_k"]
    params = np.zeros((4 + k, 6 * k + 5))
    history = []
    started = time.perf_counter()
    for iteration in range(args.iterations):
        batches = ray.get([w.rollout.remote(params, args.steps) for w in workers])
        params = params + args.learning_rate * np.mean(
            [gradient(params, b, 0.99) for b in batches], axis=0
        )
        returns = [r for b in batches for r in b["episode_returns"]]
        mean = float(np.mean(returns)) if returns else float("nan")
        history.append({"iteration": iteration, "episodes": len(returns), "mean_return": mean})
        steps = (iteration + 1) * args.steps * args.workers * args.envs_per_worker
        elapsed = time.perf_counter() - started
        eta = elapsed / (iteration + 1) * (args.iterations - iteration - 1)
        print(
            f"iteration {iteration + 1}/{args.iterations}: {len(returns)} episodes, mean return "
            f"{mean:.3f} ({steps / elapsed:.0f} steps/s, ETA {eta:.0f} s)",
            flush=True,
        )
    ray.shutdown()
    print(json.dumps({"workers": args.workers, "iterations": history}))


if __name__ == "__main__":
    main()
