"""Faults found by an adversarial pass, each reproduced here: hostile endpoints, hostile files,
hostile text, interrupted or concurrent runs. Nothing crashes, hangs, leaks the key or loses a
result."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_llm_server import ServerState, fake_llm_server

from memgym.agents import OpenAICompatibleClient
from memgym.cli import main
from memgym.config import MemoryConfig
from memgym.data import load_dataset, sample_path, validate
from memgym.envs import MemoryManagerEnv
from memgym.leaderboard import EvalConfig, RunFolderError, run_eval
from memgym.leaderboard.outdir import RunFolder
from memgym.retrieval import EmbeddingCache, HashingEmbedder

KEY = "sk-test-SECRET-0123456789"
TESTS = Path(__file__).resolve().parent


def _scripted(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"]
    if "long-term memory bank" in system:
        fact = body["messages"][-1]["content"].split("<new_fact")[1].split(">\n", 1)[1]
        return json.dumps(
            {"memory": [{"id": "new", "text": fact.split("\n</new_fact>")[0], "event": "ADD"}]}
        )
    return "[0]\n**Answer:** Buddy"


def _eval(out: Path, url: str, *extra: str) -> int:
    return main(
        [
            "eval",
            "--retriever",
            "bm25",
            "--manager",
            "llm",
            "--answerer",
            "llm",
            "--base-url",
            url,
            "--model",
            "m",
            "--api-key-env",
            "FAULT_KEY",
            "--timeout",
            "1",
            "--max-retries",
            "1",
            "--split",
            "train",
            "--no-progress",
            "--out",
            str(out),
            *extra,
        ]
    )


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("delay:30", "timeout"),
        ("drip:0.3", "timeout"),
        ("500", "http"),
        ("retry-after:3600", "http"),
        ("garbage", "bad_response"),
        ("echo", "http"),
        ("echo-ok", "bad_response"),
        ("deep", None),
    ],
)
def test_a_hostile_endpoint_never_hangs_leaks_or_poisons_the_rerun(
    mode: str, kind: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULT_KEY", KEY)
    out = tmp_path / "run"
    start = time.perf_counter()
    with fake_llm_server(ServerState(behaviours=[mode], reply=_scripted)) as url:
        assert _eval(out, url) == 0
    # Each call within its deadline and capped retries; then the circuit breaker opens.
    assert time.perf_counter() - start < 40
    results = json.loads((out / "results.json").read_text())
    failures = results["failures"]
    if kind is None:  # 1,000 nested brackets: refused by the parser, recorded as invalid
        invalid = [i for c in results["conversations"] for i in c["invalid_operations"]]
        assert invalid and all("deeper than 32 levels" in i["reason"] for i in invalid)
    else:
        kinds = {f["kind"] for f in failures if f["stage"] == "manager"}
        assert kind in kinds and kinds <= {kind, "circuit_open"}
        assert all(f.get("error") for f in failures)
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".md", ".sqlite"):
            assert KEY not in path.read_text(errors="replace"), path
    # The endpoint is healthy again: unusable replies were never cached, so the rerun asks again.
    with fake_llm_server(ServerState(reply=_scripted)) as url:
        assert _eval(out, url, "--restart") == 0
    healthy = json.loads((out / "results.json").read_text())
    assert healthy["summary"]["n_failures"] == 0
    assert all(not c["invalid_operations"] for c in healthy["conversations"])


def test_retry_after_is_capped_and_the_deadline_covers_the_whole_reply() -> None:
    with fake_llm_server(ServerState(behaviours=["retry-after:3600", "ok"])) as url:
        client = OpenAICompatibleClient(url, "m", max_retries=1, max_retry_after=0.2)
        start = time.perf_counter()
        assert client.complete([{"role": "user", "content": "x"}]) == "ok"
        assert time.perf_counter() - start < 5
    # A Retry-After that is a digit but not an ASCII number (U+00B2) is ignored, not a crash.
    with fake_llm_server(ServerState(behaviours=["retry-after:\u00b2", "ok"])) as url:
        client = OpenAICompatibleClient(url, "m", max_retries=1, max_retry_after=0.2)
        assert client.complete([{"role": "user", "content": "x"}]) == "ok"
    with fake_llm_server(ServerState(behaviours=["drip:0.2"])) as url:
        client = OpenAICompatibleClient(url, "m", timeout=1.0, max_retries=0)
        start = time.perf_counter()
        with pytest.raises(Exception, match="timeout"):
            client.complete([{"role": "user", "content": "x"}])
        assert time.perf_counter() - start < 3


def test_only_http_endpoints_are_accepted() -> None:
    with pytest.raises(ValueError, match="http"):
        OpenAICompatibleClient("file:///etc/passwd", "m")


def test_deeply_nested_files_are_refused_quickly_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "locomo10.json"
    path.write_bytes(b"[" * 200_000)
    # VmHWM, not ru_maxrss: the latter keeps the peak of the forked pytest process.
    code = (
        "from memgym.data import validate; "
        f"problems = validate({str(path)!r}); print(problems[0].message); "
        "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    message, peak_kb = done.stdout.strip().splitlines()
    assert "nests deeper than 64 levels" in message
    assert int(peak_kb) < 300_000


def test_msc_lines_that_are_not_utf8_or_overflow_are_warnings(tmp_path: Path) -> None:
    lines = sample_path("msc").read_bytes().splitlines()
    record = json.loads(lines[1])
    record["previous_dialogs"][0]["time_num"] = 1e308
    record["previous_dialogs"][0].pop("time_back", None)
    path = tmp_path / "msc_self_instruct.jsonl"
    path.write_bytes(
        b"\n".join([lines[0], json.dumps(record).encode(), b"\xff\xfe{bad", *lines[2:]])
    )
    dataset = load_dataset("msc", path)
    messages = [w.message for w in dataset.warnings]
    assert any("unparseable session time" in m for m in messages)
    assert any(m.startswith("unreadable line") or "invalid JSON" in m for m in messages)
    assert len(dataset.conversations) == len(lines)  # the bad line dropped, the others kept


def test_a_per_file_folder_holding_a_list_and_a_folder_named_json(tmp_path: Path) -> None:
    (tmp_path / "26.json").write_bytes(sample_path("locomo").read_bytes())
    (tmp_path / "x.json").mkdir()
    dataset = load_dataset("locomo", tmp_path)
    assert len(dataset.conversations) == 4
    assert any(w.record == "x.json" for w in dataset.warnings)


def test_colliding_and_duplicate_conversation_ids(tmp_path: Path) -> None:
    raw = json.loads(sample_path("locomo").read_text())
    raw[0]["sample_id"], raw[1]["sample_id"], raw[2]["sample_id"] = "conv/7", "conv_7", "conv_7"
    path = tmp_path / "locomo10.json"
    path.write_text(json.dumps(raw))
    dataset = load_dataset("locomo", path)
    assert [c.id for c in dataset.conversations] == ["conv/7", "conv_7", "sample-4"]
    assert any("duplicate conversation id" in w.message for w in dataset.warnings)
    folder = RunFolder(tmp_path / "out")
    assert folder.conversation_path("conv/7") != folder.conversation_path("conv_7")
    config = EvalConfig(data=str(path), memory=MemoryConfig(retriever="bm25"))
    results = run_eval(config, tmp_path / "out", progress=False)
    assert results["summary"]["n_questions"] == sum(len(c.questions) for c in dataset.conversations)


def test_output_faults_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_file = tmp_path / "out.txt"
    as_file.write_text("x")
    assert main(["eval", "--retriever", "bm25", "--no-progress", "--out", str(as_file)]) == 4
    assert "is a file, not a folder" in capsys.readouterr().err
    out = tmp_path / "run"
    assert main(["eval", "--retriever", "bm25", "--no-progress", "--out", str(out)]) == 0
    (out / "manifest.json").write_text("{not json")
    assert main(["eval", "--retriever", "bm25", "--no-progress", "--out", str(out)]) == 4
    assert f"{out / 'manifest.json'} is corrupt" in capsys.readouterr().err
    assert (
        main(["eval", "--retriever", "bm25", "--no-progress", "--restart", "--out", str(out)]) == 0
    )
    broken = sorted((out / "conversations").glob("*.json"))[0]
    broken.write_text('{"conversation_id": "sample-1", "questions": [')
    assert main(["eval", "--retriever", "bm25", "--no-progress", "--out", str(out)]) == 0
    assert "unreadable" in capsys.readouterr().err and json.loads(broken.read_text())["questions"]


def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    with (
        RunFolder(tmp_path),
        pytest.raises(RunFolderError, match="another memgym eval"),
        RunFolder(tmp_path),
    ):
        pass


def _hammer(folder: str, seed: int, rounds: int) -> None:
    rng = np.random.default_rng(seed)
    cache = EmbeddingCache(HashingEmbedder(16), Path(folder))
    for _ in range(rounds):
        cache.vectors([f"text {i}" for i in rng.integers(0, 400, size=25)])
        cache.save()


def test_the_embedding_cache_is_safe_across_processes_and_killed_writers(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(str(tmp_path), s, 30)) for s in range(3)]
    victim = context.Process(target=_hammer, args=(str(tmp_path), 99, 10_000))
    for process in (*workers, victim):
        process.start()
    time.sleep(1.0)
    victim.kill()
    for process in workers:
        process.join(120)
        assert process.exitcode == 0
    cache = EmbeddingCache(HashingEmbedder(16), tmp_path)
    texts = [f"text {i}" for i in range(400)]
    assert np.array_equal(cache.vectors(texts), HashingEmbedder(16).embed(texts))
    assert len(list((tmp_path / "hashing-16").glob("shard-*.json"))) <= 33


def test_saves_write_only_new_rows() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        cache = EmbeddingCache(HashingEmbedder(16), Path(folder))
        cache.vectors(["a", "b"])
        cache.save()
        cache.vectors(["a", "b", "c"])
        cache.save()
        sizes = sorted(
            len(json.loads(p.read_text())["keys"]) for p in Path(folder).rglob("shard-*.json")
        )
        assert sizes == [1, 2]


def test_results_do_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    outputs = []
    for seed in ("0", "1"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "memgym",
                "eval",
                "--retriever",
                "bm25",
                "--no-progress",
                "--out",
                str(out),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        results = json.loads((out / "results.json").read_text())
        results.pop("timing")
        outputs.append(json.dumps(results, sort_keys=True))
        outputs[-1] += (out / "predictions.jsonl").read_text()
    assert outputs[0] == outputs[1]


def test_hostile_text_in_an_env_action_is_an_invalid_action() -> None:
    env = MemoryManagerEnv(retriever="bm25")
    env.reset(seed=0)
    _, reward, _, _, info = env.step("[" * 1000)
    assert "deeper than 32 levels" in info["invalid_action"] and reward == -0.1


def test_validate_never_raises_on_garbage(tmp_path: Path) -> None:
    for i, blob in enumerate([b"\xef\xbb\xbf[]", b"[1, 2]", b'{"a":', b"\xff" * 10, b""]):
        path = tmp_path / f"f{i}.json"
        path.write_bytes(blob)
        assert validate(path), blob
