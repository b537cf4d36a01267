"""Protocol scoring, aggregation and the `memgym score` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memgym.cli import main
from memgym.data import load_dataset
from memgym.errors import DatasetError
from memgym.metrics import aggregate, get_protocol, read_predictions, score_predictions


def test_aggregate_micro_per_category_and_category_averaged() -> None:
    rows = [
        {"category": 1, "scores": {"em": 1.0}},
        {"category": 1, "scores": {"em": 0.0}},
        {"category": 1, "scores": {"em": 0.0}},
        {"category": 4, "scores": {"em": 1.0}, "abstention": True},
    ]
    summary = aggregate(rows, ["em"])
    assert summary["n_questions"] == 4
    assert summary["overall"]["em"] == 0.5
    assert summary["by_category"] == {
        "1": {"n": 3, "em": pytest.approx(1 / 3)},
        "4": {"n": 1, "em": 1.0},
    }
    assert summary["category_averaged"]["em"] == pytest.approx((1 / 3 + 1) / 2)
    assert summary["abstention"] == {"n": 1, "em": 1.0}


def test_gold_predictions_score_perfectly_under_locomo_protocol() -> None:
    ds = load_dataset("locomo")
    # The official scorer cuts category-3 gold at ";", so the part before it is the full answer.
    predictions = {q.id: q.answers[0].split(";")[0] for q in ds.questions()}
    report = score_predictions(ds, predictions, get_protocol("locomo"))
    assert report["summary"]["overall"]["locomo_f1"] == 1.0
    by_category = report["summary"]["by_category"]
    assert [by_category[c]["exact_match"] for c in ("1", "2", "4")] == [1.0, 1.0, 1.0]
    assert by_category["3"]["exact_match"] == 0.0
    assert report["summary"]["n_questions"] == 31 and report["missing_predictions"] == []
    assert report["protocol"]["name"] == "locomo" and report["protocol"]["version"] == "1"
    assert report["dataset"]["content_hash"] == ds.content_hash


def test_mem0_protocol_skips_category5_and_missing_predictions_are_flagged() -> None:
    ds = load_dataset("locomo", include_adversarial=True)
    report = score_predictions(ds, {}, get_protocol("mem0"))
    assert all(r["category"] != 5 for r in report["questions"])
    assert report["summary"]["n_missing"] == 31
    assert all(r["missing"] for r in report["questions"])
    assert report["summary"]["overall"] == {"mem0_f1": 0.0, "bleu1": 0.0}


def test_judge_scores_and_failures_are_recorded() -> None:
    ds = load_dataset("longmemeval")
    replies = iter(["yes", "no", "", "yes", "yes", "no", "yes"])
    report = score_predictions(ds, {}, get_protocol("longmemeval"), lambda messages: next(replies))
    assert report["summary"]["judge_failures"] == 1  # the empty reply
    assert report["summary"]["overall"]["judge"] == pytest.approx(4 / 7)
    judge = report["protocol"]["judge"]
    assert (judge["name"], judge["version"]) == ("longmemeval-judge", "2")
    assert "'yes'" in judge["parse_rule"] and len(judge["prompt_hash"]) == 16
    assert "abstention" in report["summary"]


def test_scoring_is_deterministic() -> None:
    ds = load_dataset("locomo")
    predictions = {q.id: f"maybe {q.answers[0][:5]}" for q in ds.questions()}
    a = score_predictions(ds, predictions, get_protocol("memory_r1"))
    b = score_predictions(ds, predictions, get_protocol("memory_r1"))
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_read_predictions_reports_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "preds.jsonl"
    path.write_text('{"question_id": "a", "prediction": "x"}\nnot json\n{"question_id": "b"}\n')
    with pytest.raises(DatasetError) as info:
        read_predictions(path)
    assert [(p.record, p.field) for p in info.value.problems] == [
        ("line 2", None),
        ("line 3", "prediction"),
    ]


def test_read_predictions_takes_a_bare_carriage_return_as_json_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "preds.jsonl"
    path.write_bytes(b'{"question_id": "a",\r"prediction": "x"}\r\n')
    assert read_predictions(path) == ({"a": "x"}, None)


def test_score_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = load_dataset("locomo")
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        "".join(
            json.dumps({"question_id": q.id, "prediction": q.answers[0]}) + "\n"
            for q in ds.questions()
        )
    )
    out = tmp_path / "report.json"
    assert (
        main(
            [
                "score",
                "--predictions",
                str(preds),
                "--dataset",
                "locomo",
                "--protocol",
                "memory_r1",
                "--naming",
                "mem0",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "| 1 single-hop |" in printed and "**overall**" in printed and "100.00" in printed
    report = json.loads(out.read_text())
    assert report["summary"]["overall"]["exact_match"] == 1.0
