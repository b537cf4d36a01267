"""The examples run as documented (small settings; the SB3 run needs stable-baselines3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, timeout=600
    )
    return done.stdout


def test_random_agent() -> None:
    out = _run(str(EXAMPLES / "random_agent.py"), "--episodes", "2")
    assert out.count("episode ") == 2 and "invalid actions" in out


def test_heuristic_agent() -> None:
    out = _run(str(EXAMPLES / "heuristic_agent.py"), "--retriever", "bm25")
    assert out.count("ORACLE support score") == 4 and "bank[" in out


@pytest.mark.slow
def test_sb3_experiment_prints_the_held_out_returns_of_every_policy() -> None:
    pytest.importorskip("stable_baselines3")
    out = _run(str(EXAMPLES / "train_sb3_manager.py"), "--seeds", "1", "--timesteps", "256")
    summary = json.loads(out.strip().splitlines()[-1])
    returns = summary["returns"]
    assert set(returns) == {"ppo", "random", "add_all", "noop", "heuristic", "concat"}
    # noop still scores what the reference bank of earlier turns answers; adding the window's
    # facts can only help the oracle reader
    assert 0.0 < returns["noop"]["mean"] < returns["add_all"]["mean"] <= 1.0
    assert returns["add_all"]["mean"] > returns["random"]["mean"]
    assert set(summary["ppo_beats"]) == {"random", "add_all", "noop", "heuristic", "concat"}
