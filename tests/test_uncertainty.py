"""How sure a score is: bootstrap intervals over conversations then questions, paired tests
between runs on their shared questions, minimum detectable differences, and `memgym report`
in the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgym.cli import main
from memgym.metrics.uncertainty import (
    CLUSTERED,
    QUESTIONS_ONLY,
    bootstrap_intervals,
    minimum_detectable_difference,
    paired_difference,
)

FAST = ["--retriever", "bm25", "--no-progress"]


def _rows(scores: list[float], conversations: list[str], categories: list[int]) -> list[Any]:
    return [
        {
            "question_id": f"{c}/q{i}",
            "conversation_id": c,
            "category": k,
            "scores": {"exact_match": s},
        }
        for i, (s, c, k) in enumerate(zip(scores, conversations, categories, strict=True))
    ]


def test_intervals_are_seeded_recorded_and_bracket_the_score() -> None:
    rows = _rows([1, 0, 1, 1, 0, 0, 1, 0] * 5, [f"c{i % 4}" for i in range(40)], [1, 2] * 20)
    first = bootstrap_intervals(rows, ["exact_match"])
    assert first == bootstrap_intervals(rows, ["exact_match"])  # deterministic
    assert (first["seed"], first["resamples"], first["confidence"]) == (0, 2000, 0.95)
    assert first["resampled"] == CLUSTERED and first["n_conversations"] == 4
    assert first != bootstrap_intervals(rows, ["exact_match"], seed=1)
    low, high = first["overall"]["exact_match"]
    assert low < 0.5 < high
    assert set(first["by_category"]) == {"1", "2"}
    constant = _rows([1.0] * 6, ["a", "a", "b", "b", "c", "c"], [4] * 6)
    assert bootstrap_intervals(constant, ["exact_match"])["overall"]["exact_match"] == [1.0, 1.0]


def test_one_conversation_resamples_questions_only_and_says_so() -> None:
    rows = _rows([1, 0] * 10, ["conv-26"] * 20, [4] * 20)
    assert bootstrap_intervals(rows, ["exact_match"])["resampled"] == QUESTIONS_ONLY


def test_conversations_are_resampled_whole_so_clustered_scores_get_wider_intervals() -> None:
    """Two conversations, one answered perfectly and one not at all: resampling questions alone
    would call the score sure to within a few points; resampling conversations does not."""
    clustered = _rows([1.0] * 30 + [0.0] * 30, ["a"] * 30 + ["b"] * 30, [4] * 60)
    spread = _rows([1.0, 1.0, 0.0, 0.0] * 15, ["a", "b"] * 30, [4] * 60)
    low_c, high_c = bootstrap_intervals(clustered, ["exact_match"])["overall"]["exact_match"]
    low_s, high_s = bootstrap_intervals(spread, ["exact_match"])["overall"]["exact_match"]
    assert high_c - low_c > 2 * (high_s - low_s)
    assert (low_c, high_c) == (0.0, 1.0)


def test_a_paired_test_finds_a_consistent_gain_and_none_between_equal_runs() -> None:
    conversations = [f"c{i % 5}" for i in range(100)]
    categories = [1 + i % 2 for i in range(100)]
    base = _rows([float(i % 3 == 0) for i in range(100)], conversations, categories)
    better = _rows([float(i % 3 == 0 or i % 4 == 0) for i in range(100)], conversations, categories)
    test = paired_difference(better, base, ["exact_match"])
    overall = test["overall"]["exact_match"]
    assert overall["difference"] == pytest.approx(
        sum(i % 3 != 0 and i % 4 == 0 for i in range(100)) / 100
    )
    assert overall["interval"][0] > 0 and overall["p_value"] < 0.01
    assert test["n_shared"] == 100 and set(test["by_category"]) == {"1", "2"}
    same = paired_difference(base, base, ["exact_match"])["overall"]["exact_match"]
    assert (same["difference"], same["interval"], same["p_value"]) == (0.0, [0.0, 0.0], 1.0)
    # Only shared ids are paired.
    assert paired_difference(better[:60], base[30:], ["exact_match"])["n_shared"] == 30


def test_minimum_detectable_difference_shrinks_with_the_square_root_of_the_size() -> None:
    # LoCoMo's open-domain test category has 83 questions: 21.7 points, worst case.
    assert minimum_detectable_difference(83) == pytest.approx(0.2174, abs=1e-4)
    assert minimum_detectable_difference(1307) == pytest.approx(0.0548, abs=1e-4)
    assert minimum_detectable_difference(332) == pytest.approx(
        minimum_detectable_difference(83) / 2
    )
    assert minimum_detectable_difference(100, sd=0.3) == pytest.approx(2.8016 * 0.03, abs=1e-4)


def _eval(out: Path, *extra: str) -> dict[str, Any]:
    assert main(["eval", *FAST, "--out", str(out), *extra]) == 0
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def test_results_keep_float_scores_and_add_intervals_for_every_cell(tmp_path: Path) -> None:
    results = _eval(tmp_path / "run")
    summary = results["summary"]
    assert all(isinstance(v, float) for v in summary["overall"].values())
    intervals = summary["intervals"]
    assert intervals["resampled"] == CLUSTERED and intervals["n_conversations"] == 4
    assert set(intervals["overall"]) == set(summary["overall"])
    for key, row in summary["by_category"].items():
        for metric, (low, high) in intervals["by_category"][key].items():
            assert low <= row[metric] <= high
    detectable = summary["minimum_detectable"]
    assert detectable["by_category"]["4"] == minimum_detectable_difference(15)
    table = (tmp_path / "run" / "leaderboard.md").read_text()
    assert "| category | n | EM | F1 (LoCoMo) | F1 (Mem0) | BLEU-1 | MDD |" in table
    assert "resampling conversations, then questions within them (2000 resamples, seed 0)" in table


def test_report_prints_each_run_and_a_paired_test_for_every_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [
        _eval(tmp_path / "heuristic"),
        _eval(tmp_path / "noop", "--manager", "noop"),
        _eval(tmp_path / "add_all", "--manager", "add_all"),
    ]
    capsys.readouterr()
    folders = [str(tmp_path / name) for name in ("heuristic", "noop", "add_all")]
    assert main(["report", *folders, "--metric", "locomo_f1"]) == 0
    out = capsys.readouterr().out
    assert "[A] heuristic manager + extractive answerer" in out
    assert "[C] add_all manager + extractive answerer" in out
    for pair in ("[A] - [B]", "[A] - [C]", "[B] - [C]"):
        assert f"{pair} on their 31 shared questions: paired bootstrap" in out
    test = paired_difference(runs[0]["questions"], runs[1]["questions"], ["locomo_f1"])
    overall = test["overall"]["locomo_f1"]
    low, high = overall["interval"]
    line = next(
        text
        for text in out.split("[A] - [B]")[1].splitlines()
        if text.strip().startswith("overall")
    )
    assert f"{100 * overall['difference']:+7.2f}" in line
    assert f"[{100 * low:+.1f}, {100 * high:+.1f}]" in line
    assert "<0.001" in line or f"{overall['p_value']:.3f}" in line
    assert f"{100 * overall['minimum_detectable']:6.1f}" in line
    assert "EM" not in out.split("[A] - [B]")[1]  # only the chosen metric
    assert not list(tmp_path.glob("*.html"))  # the page is optional


def test_runs_over_different_questions_compare_only_on_the_shared_ones_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _eval(tmp_path / "all")
    _eval(tmp_path / "train", "--split", "train")
    folders = [str(tmp_path / "all"), str(tmp_path / "train")]
    capsys.readouterr()
    assert main(["report", *folders]) == 2
    assert "--shared-questions compares them" in capsys.readouterr().err
    page = tmp_path / "shared.html"
    assert main(["report", *folders, "--shared-questions", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    assert f"Compared on the 9 questions all runs share (of {folders[0]} 31, {folders[1]} 9)" in out
    assert "[A] - [B] on their 9 shared questions" in out
    assert "9 questions" in page.read_text()
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "results.json").write_text(
        json.dumps(
            {
                **json.loads((tmp_path / "train" / "results.json").read_text()),
                "questions": [],
            }
        )
    )
    assert main(["report", folders[0], str(tmp_path / "empty"), "--shared-questions"]) == 2
    assert "the runs share no question id" in capsys.readouterr().err


def test_a_brief_report_is_a_leaderboard_and_one_line_per_pair(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = [_eval(tmp_path / "heuristic"), _eval(tmp_path / "noop", "--manager", "noop")]
    capsys.readouterr()
    folders = [str(tmp_path / "heuristic"), str(tmp_path / "noop")]
    assert main(["report", "--brief", *folders, "--metric", "locomo_f1"]) == 0
    out = capsys.readouterr().out
    summary = runs[0]["summary"]
    low, high = summary["intervals"]["overall"]["locomo_f1"]
    overall = summary["overall"]["locomo_f1"]
    assert "Overall scores:" in out
    row = next(line for line in out.splitlines() if line.startswith("  [A] heuristic manager"))
    assert row.endswith(folders[0]) and f"   31  {100 * overall:.2f} [" in row
    assert f"[{100 * low:.1f}, {100 * high:.1f}]" in out
    pair = next(line for line in out.splitlines() if line.startswith("  A - B"))
    assert "F1 (LoCoMo)" in pair and f"{100 * overall:+7.2f}" in pair and "<0.001" in pair
    assert "  4 single-hop" not in out  # no per-category tables


def test_a_run_without_per_question_rows_is_shown_without_paired_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _eval(tmp_path / "run")
    (tmp_path / "summary_only").mkdir()
    summary_only = {k: v for k, v in results.items() if k != "questions"}
    (tmp_path / "summary_only" / "results.json").write_text(json.dumps(summary_only))
    capsys.readouterr()
    assert main(["report", str(tmp_path / "run"), str(tmp_path / "summary_only")]) == 0
    out = capsys.readouterr().out
    assert "No paired tests: [B] hold no per-question rows." in out
    assert "[A] - [B]" not in out and "[B] heuristic manager + extractive answerer" in out
