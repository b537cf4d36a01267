"""The package imports fast without torch; `memgym data stats` prints the documented JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memgym.cli import main


def test_import_is_fast_and_does_not_import_torch() -> None:
    code = (
        "import sys, time; t = time.perf_counter(); import memgym; "
        "print(time.perf_counter() - t, 'torch' in sys.modules, "
        "'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[1:] == ["False", "False"]
    assert float(out[0]) < 1.0


@pytest.mark.parametrize(
    ("dataset", "categories"),
    [
        ("locomo", {"1": 5, "2": 7, "3": 4, "4": 15}),
        (
            "longmemeval",
            {
                "knowledge-update": 1,
                "multi-session": 2,
                "single-session-assistant": 1,
                "single-session-preference": 1,
                "single-session-user": 1,
                "temporal-reasoning": 1,
            },
        ),
        ("msc", {"dmr": 3}),
    ],
)
def test_stats_json(
    dataset: str, categories: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["data", "stats", "--dataset", dataset, "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["questions_by_category"] == categories
    assert stats["questions"] == sum(categories.values())
    assert stats["conversations"] == {"locomo": 4, "longmemeval": 7, "msc": 3}[dataset]


def test_stats_of_real_conv26_train_split(conv26_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "memgym",
            "data",
            "stats",
            "--data",
            str(conv26_path),
            "--split",
            "train",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    assert stats["questions"] == 152
    assert stats["questions_by_category"] == {"1": 32, "2": 37, "3": 13, "4": 70}


def test_cli_reports_dataset_errors_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "locomo10.json"
    bad.write_text("[{")
    assert main(["data", "stats", "--data", str(bad)]) == 2
    assert "error:" in capsys.readouterr().err
    assert time.time() > 0
