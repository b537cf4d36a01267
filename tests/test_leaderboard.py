"""The leaderboard: complete result files, identical reruns, safe resumption, submissions,
separate judges, ORACLE labels, validation before the output folder is touched."""

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
SAMPLES = TESTS.parent / "memgym" / "data" / "samples"
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
        "answer_prompt_tokens": 4096,
        "context_tokenizer": "all-MiniLM-L6-v2 WordPiece (bert-base-uncased vocabulary)",
        "namespace_by": "speaker",
    }
    assert results["oracle"] is False and results["kind"] == "run"
    assert results["subset"] == {
        "dataset": "locomo",
        "split": "all",
        "content_hash": results["dataset"]["content_hash"],
        "n_questions": 31,
        "categories": ["1", "2", "3", "4"],
        "adversarial": "excluded",
    }
    assert results["dataset"]["warnings"] == 11
    assert results["summary"]["evidence"] == {
        "recall": 1.0,
        "n_with_evidence": 30,
        "n_without_evidence": 1,
    }
    assert results["agents"]["manager"]["name"] == "heuristic"
    assert results["agents"]["answerer"] == {"name": "extractive", "max_words": 6}
    assert set(results["prompts"]) == {
        "version",
        "manager",
        "manager_compact",
        "answer",
        "extractor",
    }
    assert results["protocol"]["name"] == "memory_r1"
    first = results["questions"][0]
    assert {"question_id", "prediction", "gold", "scores", "retrieved", "selected", "error"} <= set(
        first
    )
    header, *predictions = [
        json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()
    ]
    assert header["format"] == "memgym.predictions" and header["split"] == "all"
    assert len(predictions) == 31 and set(predictions[0]) == {"question_id", "prediction"}
    table = (tmp_path / "leaderboard.md").read_text()
    assert "| 1 multi-hop | 5 |" in table and "| **overall** | 31 |" in table
    assert (tmp_path / "categories.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("results.json", "leaderboard.md", "predictions.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_oracle_runs_are_labelled_everywhere_and_never_beside_published_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "--retriever", "bm25", "--manager", "add_all", "--answerer", "oracle_support"]
    assert main([*args, "--no-progress", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["oracle"] is True and results["title"].startswith("ORACLE: ")
    table = (tmp_path / "leaderboard.md").read_text()
    assert table.startswith("### ORACLE: add_all manager + oracle_support answerer")
    assert "**ORACLE**" in table and "**ORACLE**" in printed
    assert "Published figures" not in table


def test_two_runs_give_identical_numbers_and_workers_do_not_change_them(tmp_path: Path) -> None:
    config = EvalConfig(
        dataset="locomo", manager="heuristic", answerer="oracle_support", memory=FAST
    )
    a = run_eval(config, tmp_path / "a", progress=False)
    b = run_eval(config, tmp_path / "b", progress=False, workers=2)
    assert _stable(a) == _stable(b)
    assert a["agents"]["answerer"] == {"name": "oracle_support", "oracle": True}


def test_an_eval_leaves_its_embeddings_on_disk_so_the_next_run_embeds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memgym.data import load_dataset
    from memgym.retrieval.embedders import make_embedder
    from memgym.retrieval.embedding_cache import EmbeddingCache

    monkeypatch.setenv("MEMGYM_CACHE_DIR", str(tmp_path / "cache"))
    config = EvalConfig(memory=MemoryConfig(retriever="hybrid"))
    run_eval(config, tmp_path / "run", progress=False)
    reopened = EmbeddingCache(make_embedder("minilm"), tmp_path / "cache" / "embeddings")
    conversations = load_dataset("locomo").conversations
    texts = [t.text for c in conversations for t in (*c.facts, *c.questions)]
    assert all(text in reopened for text in texts)


def test_an_eval_whose_cache_folder_cannot_be_written_warns_and_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("MEMGYM_CACHE_DIR", str(tmp_path / "file"))
    config = EvalConfig(memory=MemoryConfig(retriever="dense"))  # MiniLM's cache is on disk
    with pytest.warns(UserWarning, match="embedding cache .* not written"):
        results = run_eval(config, tmp_path / "run", progress=False)
    monkeypatch.setenv("MEMGYM_CACHE_DIR", str(tmp_path / "cache"))
    assert results["summary"] == run_eval(config, tmp_path / "again", progress=False)["summary"]


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


def test_a_submission_is_recorded_as_a_submission_not_as_the_default_agents(
    tmp_path: Path,
) -> None:
    config = EvalConfig(dataset="locomo", manager="heuristic", answerer="extractive", memory=FAST)
    run = run_eval(config, tmp_path / "run", progress=False)
    predictions = tmp_path / "run" / "predictions.jsonl"
    scored = score_submission(config, predictions, tmp_path / "scored", name="team-x")
    assert scored["summary"]["overall"] == run["summary"]["overall"]
    assert scored["kind"] == "submission"
    assert scored["agents"] == {
        "submission": {
            "name": "team-x",
            "file": str(predictions),
            "sha256": scored["agents"]["submission"]["sha256"],
        }
    }
    assert scored["config"]["manager"] == scored["config"]["answerer"] == "(submission)"
    assert scored["title"].startswith("submission team-x")
    table = (tmp_path / "scored" / "leaderboard.md").read_text()
    assert table.startswith("### submission team-x")
    assert "Cost:" not in table  # nothing ran here, so there is no cost to report
    assert scored["missing_predictions"] == [] and scored["unknown_predictions"] == []


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


def test_strict_eval_refuses_data_with_warnings_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["eval", "--strict", "--retriever", "bm25", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "locomo_sample.json" in error and "record" in error and "field" in error
    assert not out.exists()


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


def test_llm_agents_and_a_separate_judge_through_openai_compatible_endpoints(
    tmp_path: Path,
) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    def args(url: str, judge_url: str) -> list[str]:
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
            "--judge-base-url",
            judge_url,
            "--judge-model",
            "judge-model",
            "--no-progress",
            "--out",
            str(tmp_path),
        ]

    state = ServerState(reply=_scripted_model)
    judge_state = ServerState(reply=_scripted_model)
    with fake_llm_server(state) as url, fake_llm_server(judge_state) as judge_url:
        assert main(args(url, judge_url)) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["n_failures"] == 0
    assert results["summary"]["overall"]["judge"] == 1.0
    assert results["summary"]["judge_gap"] == 0.0  # lenient and strict both asked
    assert results["protocol"]["judge_model"] == "judge-model"
    assert set(results["protocol"]["judges"]) == {"judge", "judge_strict"}
    # The judge's prompts went to the judge's endpoint only.
    assert all("grade" not in r["messages"][0]["content"] for r in state.requests)
    assert len(judge_state.requests) == 2 * 31
    assert {r["model"] for r in judge_state.requests} == {"judge-model"}
    cost = results["cost"]["llm"]
    assert cost["answerer"]["requests_per_question"] == 1.0
    assert cost["judge"]["requests_per_question"] == 2.0
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
    # Same prompts, same endpoints, now down: every reply comes from the run's response cache.
    assert main([*args(url, judge_url), "--restart"]) == 0
    assert json.loads((tmp_path / "results.json").read_text())["summary"] == results["summary"]
    assert calls > 0


def test_with_an_endpoint_conversations_run_at_once_up_to_its_concurrency_with_equal_results(
    tmp_path: Path,
) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    def run(concurrency: int) -> tuple[dict[str, Any], int]:
        state = ServerState(behaviours=["delay:0.02"], reply=_scripted_model)
        with fake_llm_server(state) as url:
            llm = LLMSettings(base_url=url, model="scripted", concurrency=concurrency)
            config = EvalConfig(manager="llm", answerer="llm", memory=FAST, llm=llm)
            results = run_eval(config, tmp_path / str(concurrency), progress=False)
        return results, state.max_in_flight

    sequential, one = run(1)
    threaded, three = run(3)
    assert one == 1 and 1 < three <= 3
    assert threaded["summary"] == sequential["summary"]
    assert threaded["conversations"] == sequential["conversations"]


def test_the_judge_is_never_the_answerer_unless_asked_and_then_it_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    base = ["eval", "--retriever", "bm25", "--manager", "add_all", "--answerer", "llm"]
    with fake_llm_server(ServerState(reply=_scripted_model)) as url:
        model = ["--base-url", url, "--model", "scripted", "--no-progress"]
        assert main([*base, *model, "--judge", "--out", str(tmp_path / "a")]) == 2
        assert "--judge needs its own model" in capsys.readouterr().err
        assert not (tmp_path / "a" / "manifest.json").exists()
        by_hand = ["--judge-base-url", f"{url}/", "--judge-model", "scripted"]
        assert main([*base, *model, "--judge", *by_hand, "--out", str(tmp_path / "a")]) == 2
        assert "the judge is the answerer's own model" in capsys.readouterr().err
        assert main([*base, *model, "--judge-self", "--out", str(tmp_path / "b")]) == 0
    results = json.loads((tmp_path / "b" / "results.json").read_text())
    assert results["protocol"]["judge_model"] == "same as the answerer"


def test_endpoint_failures_are_recorded_not_scored_silently(tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    with fake_llm_server(ServerState(behaviours=["400"])) as url:
        settings = LLMSettings(url, "m", max_retries=0)
        config = EvalConfig(
            dataset="locomo", manager="add_all", answerer="llm", memory=FAST, llm=settings
        )
        results = run_eval(config, tmp_path, progress=False)
    assert results["summary"]["n_failures"] == 31
    assert all(f["stage"] == "answerer" for f in results["failures"])
    # Refused calls, then (how many depends on timing) calls the circuit breaker spared.
    errors = [f["error"] for f in results["failures"]]
    assert all("HTTP 400" in e or "llm call failed: circuit_open" in e for e in errors)
    assert any("HTTP 400" in e for e in errors)
    assert all(r["error"] for r in results["questions"])


def test_manager_failures_are_failures_not_silent_noops(tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    with fake_llm_server(ServerState(behaviours=["400"])) as url:
        settings = LLMSettings(url, "m", max_retries=0)
        config = EvalConfig(manager="llm", answerer="extractive", memory=FAST, llm=settings)
        results = run_eval(config, tmp_path, progress=False)
    n_facts = sum(c["n_facts"] for c in results["conversations"])
    manager = [f for f in results["failures"] if f["stage"] == "manager"]
    assert len(manager) == n_facts == results["summary"]["n_failures"]
    # The endpoint refused the first calls; the circuit breaker then spared it the rest.
    assert {f["kind"] for f in manager} == {"http", "circuit_open"}
    assert all(c["operations"] == {} and c["bank_size"] == 0 for c in results["conversations"])


def test_a_failing_conversation_stops_a_threaded_run_and_keeps_the_finished_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from fake_llm_server import ServerState, fake_llm_server

    from memgym.leaderboard import conversation as evaluation
    from memgym.leaderboard import runner

    real = evaluation.evaluate_conversation
    second_done, release = threading.Event(), threading.Event()
    started_later: list[str] = []

    def flaky(config: EvalConfig, conversation: Any, *rest: Any) -> dict[str, Any]:
        if conversation.id == "sample-1":  # fails once sample-2 is finished
            second_done.wait(30)
            raise RuntimeError("boom")
        if conversation.id == "sample-2":
            result = real(config, conversation, *rest)
            second_done.set()
            return result
        started_later.append(conversation.id)
        release.wait(30)  # still running when the run stops
        return real(config, conversation, *rest)

    monkeypatch.setattr(runner, "evaluate_conversation", flaky)
    sample = json.loads((SAMPLES / "locomo_sample.json").read_text())
    records = [{**r, "sample_id": f"sample-{i + 1}"} for i, r in enumerate(sample * 2)]
    (tmp_path / "eight.json").write_text(json.dumps(records))
    with fake_llm_server(ServerState()) as url:
        llm = LLMSettings(base_url=url, model="unused", concurrency=2)
        config = EvalConfig(
            manager="heuristic",
            answerer="oracle_support",
            data=str(tmp_path / "eight.json"),
            memory=FAST,
            llm=llm,
        )
        try:
            with pytest.raises(RuntimeError, match="boom"):
                run_eval(config, tmp_path / "run", progress=False)
            # Returned with conversations still running; of the six queued, at most the two
            # that the freed threads picked up at once were started.
            assert not release.is_set() and len(started_later) <= 2
        finally:
            release.set()
    saved = [json.loads(p.read_text()) for p in (tmp_path / "run" / "conversations").iterdir()]
    assert [result["conversation_id"] for result in saved] == ["sample-2"]


def test_a_run_resumes_with_other_call_settings_but_not_another_model(tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    with fake_llm_server(ServerState(reply=_scripted_model)) as url:
        settings = LLMSettings(url, "scripted", concurrency=1, timeout=5.0)
        config = EvalConfig(manager="add_all", answerer="llm", memory=FAST, llm=settings)
        first = run_eval(config, tmp_path, progress=False)
        gentler = LLMSettings(url, "scripted", concurrency=4, timeout=60.0, max_retries=9)
        again = run_eval(
            EvalConfig(manager="add_all", answerer="llm", memory=FAST, llm=gentler),
            tmp_path,
            progress=False,
        )
        assert again["summary"] == first["summary"]
        other = EvalConfig(
            manager="add_all", answerer="llm", memory=FAST, llm=LLMSettings(url, "other")
        )
        with pytest.raises(ConfigMismatchError, match="another configuration"):
            run_eval(other, tmp_path, progress=False)


def test_the_injection_track_runs_llm_agents_and_delivers_planted_text_as_data(
    tmp_path: Path,
) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    state = ServerState(reply=_scripted_model)
    with fake_llm_server(state) as url:
        llm = LLMSettings(base_url=url, model="scripted", concurrency=1)
        config = EvalConfig(manager="llm", answerer="llm", memory=FAST, llm=llm, inject=2)
        results = run_eval(config, tmp_path, progress=False)
    injection = results["injection"]
    planted = injection["instructions"] + injection["false_facts"]
    assert planted == 2 * len(results["conversations"])
    # The scripted manager stores every fact and deletes nothing; its reader says "Buddy".
    assert injection["instructions_stored"] == injection["instructions"] > 0
    assert injection["instructions_obeyed"] == injection["false_facts_used"] == 0
    assert injection["success_rate"] == 0.0
    canaries = [
        body["messages"][-1]["content"]
        for body in state.requests
        if "long-term memory bank" in body["messages"][0]["content"]
        and "CANARY" in body["messages"][-1]["content"]
    ]
    assert len(canaries) >= injection["instructions"]
    for prompt in canaries:  # planted text reaches the manager only inside the data tags
        memories, rest = prompt.split("</memories>", 1)
        fact, outside = rest.split("<new_fact", 1)[1].split("</new_fact>", 1)
        assert "CANARY" in memories + fact and "CANARY" not in outside
