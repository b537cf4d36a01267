"""What a new user meets first: mistakes are caught before anything is written, long work shows
progress on a terminal and stays quiet elsewhere, scores say what they matched."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import gymnasium as gym
import pytest

import memgym
from memgym.cli import main

FAST = ["--retriever", "bm25", "--no-progress"]


def test_a_typo_is_refused_before_the_output_folder_is_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["eval", "--manager", "heurstic", *FAST, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown manager 'heurstic'" in err
    assert "add_all, noop, heuristic" in err
    assert not out.exists()
    assert main(["eval", "--manager", "heuristic", *FAST, "--out", str(out)]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--answerer", "llm"], "--answerer llm needs a model: --base-url URL --model NAME"),
        (["--base-url", "http://127.0.0.1:9/v1"], "--base-url needs --model"),
        (["--answerer", "nope:thing"], "cannot import 'nope'"),
        (["--split", "val", "--data", "missing.json"], "no such file or folder"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", *args, *FAST, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0
    assert not (tmp_path / "o" / "manifest.json").exists()


def test_own_agents_resolve_from_the_current_folder_and_wrong_objects_name_the_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "my_agents.py").write_text(
        "from memgym.agents import AddAllManager\n"
        "class Mine(AddAllManager):\n    name = 'mine'\n"
        "class Broken:\n    name = 'broken'\n    def decide(self, fact, memories): ...\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "--manager", "my_agents:Mine", *FAST, "--out", "ok"]) == 0
    assert json.loads(Path("ok/results.json").read_text())["agents"]["manager"]["name"] == "mine"
    assert main(["eval", "--manager", "my_agents:Broken", *FAST, "--out", "bad"]) == 2
    assert (
        "my_agents:Broken is not a MemoryManager: it has no decide_batch" in capsys.readouterr().err
    )


def test_score_reads_the_dataset_from_the_predictions_file_and_reports_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", *FAST, "--out", str(tmp_path / "run")]) == 0
    predictions = tmp_path / "run" / "predictions.jsonl"
    capsys.readouterr()
    assert main(["score", "--predictions", str(predictions)]) == 0
    captured = capsys.readouterr()
    assert "Protocol memory_r1" in captured.out
    # The columns of eval's own table, LoCoMo F1 included, with the same intervals.
    header = next(line for line in captured.out.splitlines() if line.startswith("| category"))
    assert header in (tmp_path / "run" / "leaderboard.md").read_text()
    assert "F1 (LoCoMo)" in header
    evaluated = json.loads((tmp_path / "run" / "results.json").read_text())["summary"]
    overall = evaluated["overall"]["locomo_f1"]
    low, high = evaluated["intervals"]["overall"]["locomo_f1"]
    assert f"**{100 * overall:.2f}** [{100 * low:.1f}, {100 * high:.1f}]" in captured.out
    assert "31 of 31 predictions match questions" in captured.err
    bare = tmp_path / "bare.jsonl"
    bare.write_text('{"question_id": "conv-42/q1", "prediction": "x"}\n')
    assert main(["score", "--predictions", str(bare)]) == 2
    assert "give --dataset" in capsys.readouterr().err
    assert main(["score", "--predictions", str(bare), "--dataset", "locomo"]) == 1
    err = capsys.readouterr().err
    assert "0 of 1 predictions match" in err and "1 unknown ids" in err
    assert "31 questions without a prediction" in err


def test_a_missing_input_exits_2_and_an_unwritable_output_exits_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "missing.jsonl")
    assert main(["score", "--predictions", missing]) == 2
    assert main(["eval", "--predictions", missing, "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count(f"{missing}: cannot read") == 2
    (tmp_path / "file").write_text("not a folder")
    assert main(["eval", *FAST, "--out", str(tmp_path / "file" / "run")]) == 5
    assert "error: cannot write" in capsys.readouterr().err


def test_a_bare_make_trains_on_the_train_split_and_says_so() -> None:
    with pytest.warns(UserWarning, match="split 'train'"):
        memgym.envs.common._WARNED.discard("sample")
        env = gym.make("MemoryManagerEnv-v0", retriever="bm25")
    assert env.unwrapped.dataset.split == "train"  # type: ignore[attr-defined]
    assert [c.id for c in env.unwrapped.dataset.conversations] == ["sample-1"]  # type: ignore[attr-defined]


def test_version_and_typed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert (
        exit_info.value.code == 0
        and capsys.readouterr().out.strip() == f"memgym {memgym.__version__}"
    )
    assert (Path(memgym.__file__).parent / "py.typed").exists()


def test_render_shows_the_pending_fact_and_what_is_shown_with_it() -> None:
    env = gym.make("MemoryManagerEnv-v0", retriever="bm25", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "pending fact (Andrew): Andrew adopted a golden retriever named Buddy." in text
    assert "shown memories: none (the bank is empty)" in text
    _, _, _, _, info = env.step({"op": 1, "target": 0, "text": "x"})
    assert info["invalid_action"] == "UPDATE needs a target slot, but no memory is shown"


def _eval_output(tmp_path: Path, tty: bool, extra: tuple[str, ...] = ()) -> str:
    command = [
        sys.executable,
        "-m",
        "memgym",
        "eval",
        "--retriever",
        "bm25",
        "--out",
        str(tmp_path),
        *extra,
    ]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return done.stderr
    leader, follower = pty.openpty()
    # A terminal of 24 x 100 characters (a fresh pseudo-terminal reports zero columns).
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(command, stdout=follower, stderr=follower, stdin=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait() == 0
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_is_a_bar_on_a_terminal_and_a_line_per_conversation_in_logs(
    tmp_path: Path,
) -> None:
    piped = _eval_output(tmp_path / "piped", tty=False)
    assert "step/s" not in piped
    lines = [line for line in piped.splitlines() if "conversations (" in line]
    assert [line.split(" (")[0] for line in lines] == [
        f"memgym: {i}/4 conversations" for i in range(1, 5)
    ]
    assert lines[0].startswith("memgym: 1/4 conversations (sample-1 done), ")
    assert " s elapsed, ETA " in lines[0] and lines[-1].endswith("ETA 0.0 s")
    shown = _eval_output(tmp_path / "terminal", tty=True)
    assert "step" in shown and "100%" in shown and "conversations (" not in shown
    forced = _eval_output(tmp_path / "forced", tty=False, extra=("--progress",))
    assert "100%" in forced and "conversations (" not in forced
    assert "step" not in _eval_output(tmp_path / "quiet", tty=False, extra=("--no-progress",))


def test_a_refused_output_folder_names_the_settings_that_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["--out", str(tmp_path / "run")]
    assert main(["eval", *FAST, *out, "--manager", "add_all"]) == 0
    capsys.readouterr()
    assert main(["eval", *FAST, *out, "--manager", "noop", "--observation-k", "5"]) == 4
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith("error: ") and "holds results of another configuration" in err
    assert "manager 'add_all' -> 'noop'; memory.observation_k 10 -> 5;" in err
    assert "--restart" in err


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        (["eval"], ["--retriever {bm25,dense,hybrid}", "(default: hybrid)", "default: 10"]),
        (["eval"], ["(default: exclude)", "--errata ERRATA", "(default: 8)"]),
        (["score"], ["(default: memory_r1)", "(default: locomo)"]),
        (["data", "stats"], ["(default: all)", "(default: 50)"]),
    ],
)
def test_help_shows_every_default(
    command: list[str], shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for piece in shown:
        assert piece in text


def test_each_message_fits_its_run_kind(tmp_path: Path) -> None:
    """The EM note explains an extractive reader; under an ORACLE or a submission it is
    wrong."""
    em_note = "EM (exact match) is near 0 for extractive readers"
    assert main(["eval", *FAST, "--out", str(tmp_path / "extractive")]) == 0
    assert em_note in (tmp_path / "extractive" / "leaderboard.md").read_text()
    oracle = ["--answerer", "oracle_support", "--out", str(tmp_path / "oracle")]
    assert main(["eval", *FAST, *oracle]) == 0
    assert em_note not in (tmp_path / "oracle" / "leaderboard.md").read_text()
    predictions = str(tmp_path / "extractive" / "predictions.jsonl")
    assert main(["eval", "--predictions", predictions, "--out", str(tmp_path / "entry")]) == 0
    table = (tmp_path / "entry" / "leaderboard.md").read_text()
    assert em_note not in table and "Cost:" not in table


def _dry_run(target: str, tmp_path: Path, *settings: str) -> str:
    """What `make TARGET` would run in a fresh clone (its venv in tmp_path), without running."""
    root = Path(memgym.__file__).resolve().parents[1]
    done = subprocess.run(
        ["make", "-n", "-C", str(root), target, f"VENV={tmp_path / 'venv'}", *settings],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_make_demo_installs_the_core_and_plot_only_and_compares_every_listed_manager(
    tmp_path: Path,
) -> None:
    demo = _dry_run("demo", tmp_path)
    installs = [line for line in demo.splitlines() if "pip install" in line and " -e " in line]
    assert installs == [
        f"{tmp_path / 'venv'}/bin/python -m pip install -c constraints-dev.txt "
        "--config-settings editable_mode=compat -e '.[plot]'"
    ]
    for manager in ("noop", "random", "add_all", "heuristic"):
        for answerer in ("oracle_support", "extractive"):
            assert f"runs/demo/{answerer}-{manager}" in demo
    assert "--html runs/demo/report.html" in demo
    # One variable names the managers: a new one joins every table.
    more = _dry_run("demo", tmp_path, "DEMO_MANAGERS=noop fill")
    assert "runs/demo/extractive-fill" in more and "runs/demo/oracle_support-fill" in more
    assert "heuristic" not in more
    # The tests still get the whole dev stack.
    assert "-e '.[dev]'" in _dry_run("venv", tmp_path)


def test_a_script_beside_a_clone_called_memgym_imports_the_package_under_a_compat_install(
    tmp_path: Path,
) -> None:
    """Python puts a script's folder first on sys.path, so a clone called `memgym` beside it is
    an empty namespace package to that script. setuptools' default editable finder is asked
    only after the path, so the script got the folder ("Environment MemoryManagerEnv doesn't
    exist"). The Makefile installs in compat mode, whose .pth file puts the repository on
    sys.path, where the real package is found first: reproduced here with that .pth."""
    root = Path(memgym.__file__).resolve().parents[1]
    (tmp_path / "memgym").symlink_to(root)
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "__editable__.memgym-compat.pth").write_text(f"{root}\n")
    script = tmp_path / "train.py"
    script.write_text(
        f"import site\nsite.addsitedir({str(site_dir)!r})\n"
        "import gymnasium as gym\nimport memgym\n"
        "env = gym.make('MemoryManagerEnv-v0', retriever='bm25')\n"
        "print(memgym.__file__, type(env.unwrapped).__name__)\n"
    )
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    )
    assert done.stdout.split() == [str(root / "memgym" / "__init__.py"), "MemoryManagerEnv"]
