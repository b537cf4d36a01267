"""Ray: the leaderboard on Ray tasks gives the local run's results; rollout actors step the
envs exactly as a local env does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import memgym  # noqa: F401
from memgym.cli import main
from memgym.integrations.ray_rollouts import make_workers

ray = pytest.importorskip("ray", reason="Ray is in the dev extra: make test installs it")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def _outputs(out: Path) -> str:
    results = json.loads((out / "results.json").read_text())
    results.pop("timing")  # wall time and cache hits: the only per-run values
    files = [(out / name).read_text() for name in ("predictions.jsonl", "leaderboard.md")]
    return json.dumps(results, sort_keys=True) + "".join(files)


def test_eval_on_ray_gives_the_local_results(local_ray: None, tmp_path: Path) -> None:
    common = ["eval", "--retriever", "bm25", "--split", "all", "--no-progress"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--ray", "--workers", "2", "--out", str(tmp_path / "ray")]) == 0
    assert _outputs(tmp_path / "local") == _outputs(tmp_path / "ray")
    names = sorted(p.name for p in (tmp_path / "ray" / "conversations").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "local" / "conversations").iterdir())


def test_rollout_actors_step_the_envs_as_a_local_env_does(local_ray: None) -> None:
    kwargs = {"retriever": "bm25", "reward_schedule": "step", "observation_k": 5}
    workers = make_workers(2, env_kwargs=kwargs, envs_per_worker=2, seed=7)
    params = np.random.default_rng(0).normal(size=(4 + 5, 6 * 5 + 5))
    batches = ray.get([w.rollout.remote(params, 12) for w in workers])
    assert batches[0]["observations"].shape == (12, 2, 35)
    assert batches[0]["actions"].shape == (12, 2, 2)
    local = gym.vector.SyncVectorEnv(
        [lambda: gym.make("MemoryManagerEnv-features-v0", **kwargs) for _ in range(2)]
    )
    observations, _ = local.reset(seed=7)
    assert np.array_equal(observations, batches[0]["observations"][0])
    for t in range(12):
        _, rewards, *_ = local.step(batches[0]["actions"][t])
        assert np.array_equal(rewards, batches[0]["rewards"][t])
