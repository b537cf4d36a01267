"""The leaderboard: complete result files, identical reruns, safe resumption, submissions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from memgym.cli import main
from memgym.engine import MemoryConfig
from memgym.leaderboard import (
    ConfigMismatchError,
    EvalConfig,
    LLMSettings,
    run_eval,
    score_submission,
)

TESTS = Path(__file__).resolve().parent
FAST = MemoryConfig(retriever="bm25")


def _stable(results: dict[str, Any]) -> str:
    """Everything but wall-clock timing."""
    return json.dumps({k: v for k, v in results.items() if k != "timing"}, sort_keys=True)


def test_results_folder_has_every_output_and_recorded_setup(tmp_path: Path) -> None:
    config = EvalConfig(dataset="locomo", manager="heuristic", answerer="extractive", memory=FAST)
    results = run_eval(config, tmp_path, progress=False)
    assert {p.name for p in tmp_path.iterdir()} >= {
        "results.json",
        "predictions.jsonl",
        "leaderboard.md",
        "categories.png",
        "manifest.json",
        "conversations",
    }
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert _stable(on_disk) == _stable(results)
    summary = results["summary"]
    assert summary["n_questions"] == 31
    assert set(summary["by_category"]) == {"1", "2", "3", "4"}
    assert set(summary["overall"]) == {"exact_match", "locomo_f1", "mem0_f1", "bleu1"}
    assert results["dataset"]["content_hash"] and results["dataset"]["split"] == "all"
    assert results["retrieval"] == {
        "retriever": "bm25",
        "embedder": None,
        "observation_k": 10,
        "answer_k_per_namespace": None,
        "namespace_by": "speaker",
    }
    assert results["agents"]["manager"]["name"] == "heuristic"
    assert results["agents"]["answerer"] == {"name": "extractive", "max_words": 6}
    assert set(results["prompts"]) == {"version", "manager", "answer", "extractor"}
    assert results["protocol"]["name"] == "memory_r1"
    first = results["questions"][0]
    assert {"question_id", "prediction", "gold", "scores", "retrieved", "selected", "error"} <= set(
        first
    )
    predictions = [
        json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()
    ]
    assert len(predictions) == 31 and set(predictions[0]) == {"question_id", "prediction"}
    table = (tmp_path / "leaderboard.md").read_text()
    assert "| 1 multi-hop | 5 |" in table and "| **overall** | 31 |" in table
    assert (tmp_path / "categories.png").read_bytes()[:4] == b"\x89PNG"


def test_two_runs_give_identical_numbers_and_workers_do_not_change_them(tmp_path: Path) -> None:
    config = EvalConfig(
        dataset="locomo", manager="heuristic", answerer="oracle_support", memory=FAST
    )
    a = run_eval(config, tmp_path / "a", progress=False)
    b = run_eval(config, tmp_path / "b", progress=False, workers=2)
    assert _stable(a) == _stable(b)
    assert a["agents"]["answerer"] == {"name": "oracle_support", "oracle": True}


def test_changed_config_refuses_to_mix_unless_restarted(tmp_path: Path) -> None:
    run_eval(
        EvalConfig(manager="add_all", answerer="oracle_support", memory=FAST),
        tmp_path,
        progress=False,
    )
    changed = EvalConfig(manager="noop", answerer="oracle_support", memory=FAST)
    with pytest.raises(ConfigMismatchError, match="another configuration"):
        run_eval(changed, tmp_path, progress=False)
    results = run_eval(changed, tmp_path, progress=False, restart=True)
    assert results["summary"]["overall"]["exact_match"] == 0.0  # nothing stored, nothing supported


def test_killed_run_resumes_to_the_same_results(tmp_path: Path) -> None:
    args = [
        "--dataset",
        "locomo",
        "--retriever",
        "bm25",
        "--manager",
        "slow_agents:SlowManager",
        "--answerer",
        "oracle_support",
        "--no-progress",
    ]
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    interrupted = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "memgym", "eval", *args, "--out", str(interrupted)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list((interrupted / "conversations").glob("*.json")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = list((interrupted / "conversations").glob("*.json"))
    assert 1 <= len(finished) < 4, "the run should be interrupted midway"
    assert not (interrupted / "results.json").exists()
    resumed = subprocess.run(
        [sys.executable, "-m", "memgym", "eval", *args, "--out", str(interrupted)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "| **overall** | 31 |" in resumed.stdout
    whole = tmp_path / "whole"
    subprocess.run(
        [sys.executable, "-m", "memgym", "eval", *args, "--out", str(whole)],
        env=env,
        capture_output=True,
        check=True,
    )
    a = json.loads((interrupted / "results.json").read_text())
    b = json.loads((whole / "results.json").read_text())
    assert _stable(a) == _stable(b)


def test_scoring_a_submission_without_agents(tmp_path: Path) -> None:
    config = EvalConfig(dataset="locomo", manager="heuristic", answerer="extractive", memory=FAST)
    run = run_eval(config, tmp_path / "run", progress=False)
    scored = score_submission(config, tmp_path / "run" / "predictions.jsonl", tmp_path / "scored")
    assert scored["summary"] == run["summary"]
    assert scored["agents"]["submission"]["sha256"]
    assert scored["missing_predictions"] == []


def test_eval_command_prints_the_table_with_mem0_naming(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "eval",
            "--dataset",
            "locomo",
            "--retriever",
            "bm25",
            "--manager",
            "add_all",
            "--answerer",
            "extractive",
            "--naming",
            "mem0",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "| 1 single-hop | 5 |" in out and "| 3 multi-hop | 4 |" in out and "wall time" in out
    assert "category names: mem0" in (tmp_path / "leaderboard.md").read_text()


def test_train_split_of_real_conv26(conv26_path: Path, tmp_path: Path) -> None:
    config = EvalConfig(
        dataset="locomo",
        data=str(conv26_path),
        split="train",
        manager="add_all",
        answerer="oracle_support",
        memory=FAST,
    )
    results = run_eval(config, tmp_path, progress=False)
    assert results["summary"]["n_questions"] == 152
    assert {k: v["n"] for k, v in results["summary"]["by_category"].items()} == {
        "1": 32,
        "2": 37,
        "3": 13,
        "4": 70,
    }


def test_real_locomo10_test_split_counts(locomo10_path: Path, tmp_path: Path) -> None:
    config = EvalConfig(
        dataset="locomo",
        data=str(locomo10_path),
        split="test",
        manager="add_all",
        answerer="oracle_support",
        memory=FAST,
    )
    results = run_eval(config, tmp_path, progress=False, workers=2)
    assert results["summary"]["n_questions"] == 1307
    counts = {k: v["n"] for k, v in results["summary"]["by_category"].items()}
    assert counts == {"1": 239, "2": 258, "3": 83, "4": 727}


def _scripted_model(body: dict[str, Any]) -> str:
    """Replies like a model would to each of memgym's prompts."""
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    if "long-term memory bank" in system:
        fact = user.split("<new_fact")[1].split(">\n", 1)[1].split("\n</new_fact>")[0]
        return json.dumps({"memory": [{"id": "new", "text": fact, "event": "ADD"}]})
    if "**Answer:**" in system:
        return "[0]\n**Answer:** Buddy"
    return '{"label": "CORRECT"}'


def test_llm_agents_and_judge_through_an_openai_compatible_endpoint(tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    def args(url: str) -> list[str]:
        return [
            "eval",
            "--dataset",
            "locomo",
            "--retriever",
            "bm25",
            "--manager",
            "llm",
            "--answerer",
            "llm",
            "--base-url",
            url,
            "--model",
            "scripted",
            "--judge",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]

    state = ServerState(reply=_scripted_model)
    with fake_llm_server(state) as url:
        assert main(args(url)) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["n_failures"] == 0
    assert results["summary"]["overall"]["judge"] == 1.0
    assert results["agents"]["manager"]["client"] == {
        "backend": "openai-compatible",
        "base_url": url,
        "model": "scripted",
        "temperature": 0.0,
        "max_tokens": 512,
    }
    assert all(c["operations"] == {"ADD": c["n_facts"]} for c in results["conversations"])
    assert (tmp_path / "llm_cache.sqlite").exists()
    calls = len(state.requests)
    # Same prompts, same endpoint, now down: every reply comes from the run's response cache.
    assert main([*args(url), "--restart"]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["summary"] == results["summary"]
    assert calls > 0


def test_endpoint_failures_are_recorded_not_scored_silently(tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    with fake_llm_server(ServerState(behaviours=["400"])) as url:
        settings = LLMSettings(url, "m", max_retries=0)
        config = EvalConfig(
            dataset="locomo", manager="add_all", answerer="llm", memory=FAST, llm=settings
        )
        results = run_eval(config, tmp_path, progress=False)
    assert results["summary"]["n_failures"] == 31
    assert all("HTTP 400" in f["error"] for f in results["failures"])
    assert all(r["error"] for r in results["questions"])
