"""Distributed rollouts on Ray core: actors that each drive a vector of memgym envs.

RLlib 2.60 pins gymnasium 1.2.2, while memgym runs on Gymnasium 1.4 (the version whose env
checker and vector API it is tested with); Ray core does not pin it. So rollouts are Ray
actors, one per CPU, each holding a `SyncVectorEnv` of any registered memgym id (the
classic-RL `MemoryManagerEnv-features-v0` by default) and stepping it with the driver's
current policy parameters. Each actor builds its envs (and their embedding model) once, in its
own process; envs share the on-disk embedding cache, which is safe across processes.

    workers = make_workers(2, env_id="MemoryManagerEnv-features-v0", envs_per_worker=4)
    batches = ray.get([w.rollout.remote(params, 64) for w in workers])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

Policy = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


def linear_policy(
    params: np.ndarray, observations: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Sample (operation, slot) actions from a linear softmax policy: `params` has one row of
    weights per operation (4) followed by one per slot."""
    logits = observations @ params.T
    operation_logits, slot_logits = logits[:, :4], logits[:, 4:]
    return np.stack([_sample(operation_logits, rng), _sample(slot_logits, rng)], axis=1)


def _sample(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities = z / z.sum(axis=1, keepdims=True)
    cumulative = probabilities.cumsum(axis=1)
    draws = rng.random((len(logits), 1))
    chosen: np.ndarray = np.minimum((draws > cumulative).sum(axis=1), logits.shape[1] - 1)
    return chosen


class RolloutWorker:
    """A vector of envs stepped with the policy it is given (run as a Ray actor)."""

    def __init__(
        self, env_id: str, env_kwargs: dict[str, Any], envs_per_worker: int, seed: int
    ) -> None:
        import memgym  # noqa: F401  (registers the ids in the actor's process)

        self.envs = gym.vector.SyncVectorEnv(
            [lambda: gym.make(env_id, **env_kwargs) for _ in range(envs_per_worker)]
        )
        self.rng = np.random.default_rng(seed)
        self.observations, _ = self.envs.reset(seed=seed)
        self.episode_returns = np.zeros(envs_per_worker)

    def rollout(self, params: np.ndarray, steps: int) -> dict[str, Any]:
        """`steps` steps of every env: observations, actions, rewards, episode ends, and the
        returns of the episodes that ended."""
        observations, actions, rewards, dones, finished = [], [], [], [], []
        for _ in range(steps):
            action = linear_policy(params, self.observations, self.rng)
            next_observations, reward, terminated, truncated, _ = self.envs.step(action)
            done = np.logical_or(terminated, truncated)
            observations.append(self.observations)
            actions.append(action)
            rewards.append(reward)
            dones.append(done)
            self.episode_returns += reward
            finished += self.episode_returns[done].tolist()
            self.episode_returns[done] = 0.0
            self.observations = next_observations
        return {
            "observations": np.stack(observations),
            "actions": np.stack(actions),
            "rewards": np.stack(rewards),
            "dones": np.stack(dones),
            "episode_returns": finished,
        }


def make_workers(
    count: int,
    env_id: str = "MemoryManagerEnv-features-v0",
    env_kwargs: dict[str, Any] | None = None,
    envs_per_worker: int = 2,
    seed: int = 0,
) -> list[Any]:
    """`count` RolloutWorker actors (Ray must be initialised), seeded `seed`, `seed + 1`, ..."""
    import ray

    actor = ray.remote(num_cpus=1)(RolloutWorker)
    return [actor.remote(env_id, env_kwargs or {}, envs_per_worker, seed + i) for i in range(count)]
