"""Errata for wrong gold answers, in the LoCoMo audit's schema: read and checked entry by entry,
applied to the data (excluded or corrected), recorded in every result, rescored from recorded
runs, and the ceiling the original golds impose."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from errata_fixtures import ENTRIES, entry, locomo10, write_errata

from memgym.cli import main
from memgym.data import load_dataset
from memgym.data.errata import apply_errata, load_errata
from memgym.errors import DatasetError
from memgym.io import sha256_file

FAST = ["--retriever", "bm25", "--no-progress"]


def _questions(dataset: Any) -> dict[str, Any]:
    return {q.id: q for q in dataset.questions()}


def test_exclude_mode_drops_the_questions_whose_gold_is_wrong_and_keeps_citation_errors(
    tmp_path: Path,
) -> None:
    data = load_dataset("locomo", locomo10(tmp_path))
    errata = load_errata(write_errata(tmp_path))
    assert errata.mode == "exclude"
    fixed = apply_errata(data, errata)
    before, after = _questions(data), _questions(fixed)
    assert set(before) - set(after) == {"conv-26/q0", "conv-26/q3", "conv-30/q1"}
    # A wrong citation leaves the gold right: the question stays, as it was.
    assert after["conv-26/q1"] == before["conv-26/q1"]
    # The data's hash names the errata and the mode, so caches and runs tell them apart.
    assert fixed.content_hash != data.content_hash
    assert fixed.fingerprint()["errata"] == {
        "sha256": sha256_file(tmp_path / "errata.json"),
        "mode": "exclude",
    }
    assert fixed.errata is not None and fixed.errata.data_hash == data.content_hash
    assert [c.action for c in fixed.errata.changes] == ["excluded", "kept", "excluded", "excluded"]


def test_correct_mode_scores_against_the_correct_answer_and_its_evidence(tmp_path: Path) -> None:
    data = load_dataset("locomo", locomo10(tmp_path))
    fixed = apply_errata(data, load_errata(write_errata(tmp_path), "correct"))
    questions = _questions(fixed)
    assert len(questions) == len(_questions(data))
    assert questions["conv-26/q3"].answers == ("15 April 2023",)
    assert questions["conv-26/q3"].evidence_turn_ids == ("D2:1", "D2:2")
    assert questions["conv-26/q1"].evidence_turn_ids == ("D1:3",)  # the citation is corrected
    assert questions["conv-30/q1"].answers == ("Pixel the cat",)
    assert (
        fixed.content_hash != apply_errata(data, load_errata(write_errata(tmp_path))).content_hash
    )


def test_ids_follow_the_official_order_so_split_and_per_conversation_files_work(
    tmp_path: Path,
) -> None:
    full = locomo10(tmp_path)
    errata = load_errata(write_errata(tmp_path))
    val = apply_errata(load_dataset("locomo", full, "val"), errata)  # conv-30 alone
    assert set(_questions(load_dataset("locomo", full, "val"))) - set(_questions(val)) == {
        "conv-30/q1"
    }
    assert val.errata is not None and val.errata.not_in_dataset == 3
    # One conversation in its own file, as the official release can also be laid out.
    single = tmp_path / "conv30.json"
    single.write_text(json.dumps([json.loads(full.read_text())[1]]))
    alone = apply_errata(load_dataset("locomo", single), errata)
    assert "conv-30/q1" not in _questions(alone)
    # Errata naming none of the data's questions are a mistake, not a no-op.
    with pytest.raises(DatasetError, match="none of its 4 entries names a question of"):
        apply_errata(load_dataset("locomo", full, "test"), errata)


@pytest.mark.parametrize(
    ("broken", "record", "field", "message"),
    [
        (
            {"question_id": "locomo_12_qa0"},
            "entry 0 (locomo_12_qa0)",
            "question_id",
            "unknown id locomo_12_qa0: locomo10.json has conversations 0-9",
        ),
        (
            {"question_id": "conv-26/q0"},
            "entry 0 (conv-26/q0)",
            "question_id",
            "expected locomo_<i>_qa<j>",
        ),
        ({"error_type": "TYPO"}, "entry 0 (locomo_0_qa0)", "error_type", "unknown error type"),
        ({"category": "4"}, "entry 0 (locomo_0_qa0)", "category", "expected an integer 1-5"),
        (
            {"correct_evidence": "D1:1"},
            "entry 0 (locomo_0_qa0)",
            "correct_evidence",
            "expected a list of dialogue ids",
        ),
        ({"correct_answer": None}, "entry 0 (locomo_0_qa0)", "correct_answer", "expected a string"),
    ],
)
def test_a_malformed_entry_is_refused_naming_file_entry_and_field(
    tmp_path: Path, broken: dict[str, Any], record: str, field: str, message: str
) -> None:
    path = write_errata(tmp_path, [{**ENTRIES[0], **broken}, ENTRIES[1]])
    with pytest.raises(DatasetError) as error:
        load_errata(path)
    problem = error.value.problems[0]
    assert (problem.file, problem.record, problem.field) == (str(path), record, field)
    assert message in problem.message and len(error.value.problems) == 1


def test_a_missing_field_a_duplicate_and_a_wrong_schema_are_refused(tmp_path: Path) -> None:
    missing = {k: v for k, v in ENTRIES[0].items() if k != "question"}
    with pytest.raises(DatasetError, match=r"entry 0 \(locomo_0_qa0\): field 'question': missing"):
        load_errata(write_errata(tmp_path, [missing]))
    with pytest.raises(DatasetError, match=r"entry 1 \(locomo_0_qa0\): field 'question_id': dup"):
        load_errata(write_errata(tmp_path, [ENTRIES[0], ENTRIES[0]]))
    with pytest.raises(DatasetError, match="expected a list of errata objects"):
        load_errata(write_errata(tmp_path, {"locomo_0_qa0": ENTRIES[0]}))
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(DatasetError, match=r"bad\.json: invalid JSON"):
        load_errata(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="unknown errata mode 'fix'"):
        load_errata(write_errata(tmp_path), "fix")


def test_entries_that_do_not_match_the_data_name_the_entry(tmp_path: Path) -> None:
    data = load_dataset("locomo", locomo10(tmp_path))
    wrong_text = entry(0, 2, "What is Andrew's dog called?", "x", 1, "AMBIGUOUS", "y", [])
    with pytest.raises(DatasetError) as error:
        apply_errata(data, load_errata(write_errata(tmp_path, [ENTRIES[0], wrong_text])))
    assert error.value.record == "entry 1 (locomo_0_qa2)" and error.value.field == "question"
    assert "does not match conv-26 qa[2]" in str(error.value)
    assert "What are the names of Andrew's dogs?" in str(error.value)
    beyond = entry(1, 40, "Anything?", "x", 4, "HALLUCINATION", "y", [])
    with pytest.raises(
        DatasetError, match=r"entry 0 \(locomo_1_qa40\).*no question at qa index 40"
    ):
        apply_errata(data, load_errata(write_errata(tmp_path, [beyond])))


def test_a_folder_of_audit_files_reads_as_one_errata(tmp_path: Path) -> None:
    folder = tmp_path / "audit"
    folder.mkdir()
    (folder / "errors_conv_0.json").write_text(json.dumps(ENTRIES[:3]))
    (folder / "errors_conv_1.json").write_text(json.dumps(ENTRIES[3:]))
    (folder / "README.md").write_text("not errata")
    errata = load_errata(folder)
    assert [e.audit_id for e in errata.entries] == [e["question_id"] for e in ENTRIES]
    assert errata.entries[3].file == str(folder / "errors_conv_1.json")


def _eval(out: Path, data: Path, *extra: str) -> dict[str, Any]:
    argv = ["eval", "--data", str(data), *FAST, "--out", str(out), *extra]
    assert main(argv) == 0
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    return results


def test_an_eval_with_errata_records_them_the_affected_questions_and_the_ceiling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, errata = locomo10(tmp_path), write_errata(tmp_path)
    plain = _eval(tmp_path / "plain", data, "--answerer", "oracle_support")
    fixed = _eval(tmp_path / "fixed", data, "--answerer", "oracle_support", "--errata", str(errata))
    table = capsys.readouterr().out
    recorded = fixed["errata"]
    assert recorded["sha256"] == sha256_file(errata) and recorded["mode"] == "exclude"
    assert recorded["affected_by_category"] == {"2": 1, "4": 2}
    assert fixed["subset"]["n_questions"] == plain["subset"]["n_questions"] - 3
    assert fixed["subset"]["errata"] == {"sha256": recorded["sha256"], "mode": "exclude"}
    assert fixed["dataset"]["errata"] == fixed["subset"]["errata"]
    # The ceiling: a perfect system loses the three wrong golds, scored against them.
    ceiling = recorded["ceiling"]
    assert ceiling["n_questions"] == plain["subset"]["n_questions"]
    assert ceiling["by_category"]["2"]["right_golds"] == pytest.approx(4 / 5)
    assert ceiling["by_category"]["4"]["right_golds"] == pytest.approx(10 / 12)
    assert ceiling["by_category"]["4"]["exact_match"] == pytest.approx(10 / 12)
    # "Pixel the cat" against the gold "Pixel" gets partial credit from F1.
    assert 10 / 12 < ceiling["by_category"]["4"]["mem0_f1"] < 1
    assert "Errata (exclude mode)" in table and recorded["sha256"][:12] in table
    assert "3 questions excluded (2 temporal 1, 4 single-hop 2)" in table
    assert "Ceiling under the original golds" in table and "87.50% of golds are right" in table


def test_errata_change_the_run_so_a_folder_of_the_original_refuses_them_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, errata = locomo10(tmp_path), write_errata(tmp_path)
    _eval(tmp_path / "run", data)
    argv = ["eval", "--data", str(data), *FAST, "--out", str(tmp_path / "run")]
    assert main([*argv, "--errata", str(errata)]) == 4
    err = capsys.readouterr().err
    assert "dataset_identity.errata.mode (unset) -> 'exclude'" in err
    assert "--restart" in err


def test_rescoring_a_recorded_run_with_errata_equals_running_with_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The extractive reader never reads golds, so a run's recorded predictions rescored under
    the errata must score exactly what a run with the errata scores."""
    data, errata = locomo10(tmp_path), write_errata(tmp_path)
    plain = tmp_path / "plain"
    _eval(plain, data)
    for mode in ("exclude", "correct"):
        fixed = _eval(tmp_path / mode, data, "--errata", str(errata), "--errata-mode", mode)
        capsys.readouterr()
        page = tmp_path / f"{mode}.html"
        argv = ["report", str(plain), str(tmp_path / mode), "--html", str(page)]
        assert main([*argv, "--errata", str(errata), "--errata-mode", mode]) == 0
        out = capsys.readouterr().out
        overall = fixed["summary"]["overall"]
        assert f"{100 * overall['locomo_f1']:.2f} [" in out
        # Both runs now score the same data the same way: every paired difference is zero.
        assert "[A] - [B] on their" in out and "+0.00  [+0.0, +0.0]     1.000" in out
        assert f"Errata ({mode} mode)" in out
        assert "errata" in page.read_text()


def test_score_applies_errata_to_a_predictions_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, errata = locomo10(tmp_path), write_errata(tmp_path)
    _eval(tmp_path / "run", data)
    capsys.readouterr()
    predictions = str(tmp_path / "run" / "predictions.jsonl")
    report = tmp_path / "report.json"
    argv = ["score", "--predictions", predictions, "--errata", str(errata), "--out", str(report)]
    assert main([*argv, "--errata-mode", "correct"]) == 0
    assert "Errata (correct mode)" in capsys.readouterr().out
    scored = json.loads(report.read_text())
    assert scored["errata"]["affected"] == 4 and scored["dataset"]["errata"]["mode"] == "correct"
    row = next(r for r in scored["questions"] if r["question_id"] == "conv-30/q1")
    assert row["gold"] == ["Pixel the cat"]


def test_an_errata_run_compares_with_its_original_on_their_shared_questions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, errata = locomo10(tmp_path), write_errata(tmp_path)
    original = _eval(tmp_path / "original", data, "--answerer", "oracle_support")
    corrected = _eval(
        tmp_path / "corrected",
        data,
        *("--answerer", "oracle_support", "--errata", str(errata), "--errata-mode", "correct"),
    )
    capsys.readouterr()
    folders = [str(tmp_path / "original"), str(tmp_path / "corrected")]
    assert main(["report", *folders]) == 2  # other golds: not the same subset
    capsys.readouterr()
    page = tmp_path / "page.html"
    assert main(["report", *folders, "--shared-questions", "--html", str(page)]) == 0
    out = capsys.readouterr().out
    n = original["subset"]["n_questions"]
    assert f"Compared on the {n} questions all runs share" in out
    assert "[A] Errata: none." in out and "[B] Errata (correct mode)" in out
    difference = (
        corrected["summary"]["overall"]["exact_match"]
        - original["summary"]["overall"]["exact_match"]
    )
    assert f"{100 * -difference:+7.2f}" in out.split("[A] - [B]")[1].split("F1 (LoCoMo)")[0]
    assert f"{tmp_path / 'corrected'}: Errata (correct mode)" in page.read_text()


def _window_turn(env: Any, question_id: str) -> str | None:
    for episode in env.plan.episodes:
        if any(q.id == question_id for q in episode.questions):
            return episode.window_turn  # type: ignore[no-any-return]
    return None


def test_both_envs_take_errata_and_their_tuples_follow_the_corrected_evidence(
    tmp_path: Path,
) -> None:
    from memgym.envs import AnswerAgentEnv, MemoryManagerEnv

    data, path = locomo10(tmp_path), write_errata(tmp_path)
    common = {"data": data, "split": "train", "retriever": "bm25"}
    plain = MemoryManagerEnv(episode="window", **common)
    corrected = MemoryManagerEnv(episode="window", errata=load_errata(path, "correct"), **common)
    # The corrected evidence of "When did Andrew adopt Scout?" ends a turn later: its tuple
    # moves there, and the env says which errata it scores with.
    assert (_window_turn(plain, "conv-26/q3"), _window_turn(corrected, "conv-26/q3")) == (
        "D2:1",
        "D2:2",
    )
    assert corrected.describe()["dataset"]["errata"]["mode"] == "correct"
    answers = AnswerAgentEnv(errata=path, **common)  # a path: exclude mode
    assert {q.id for q in answers.questions}.isdisjoint({"conv-26/q0", "conv-26/q3"})
    assert "conv-26/q1" in {q.id for q in answers.questions}
