"""The judge stress test: three wrong answers per question built deterministically from the
data, judge prompts from files checked before any call, and the benchmark's mechanics against
the local fake server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import ServerState, fake_llm_server

from memgym.data import load_dataset
from memgym.data.schema import Question
from memgym.errors import DatasetError
from memgym.metrics.prompt_files import TemplateJudge, load_template
from memgym.metrics.stress import (
    content_words,
    contradiction_answer,
    specific_answer,
    stress_answers,
)

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "judge_stress.py"


def _question(qid: str, gold: str, category: int = 4, text: str = "What?") -> Question:
    return Question(
        id=qid,
        conversation_id="sample-1",
        text=text,
        answers=(gold,),
        category=category,
        category_name="x",
    )


def test_each_wrong_answer_is_built_from_the_data_and_is_wrong_by_construction() -> None:
    dataset = load_dataset("locomo")
    questions = list(dataset.questions())
    built = stress_answers(questions, dataset.conversations)
    assert built == stress_answers(questions, dataset.conversations)  # deterministic
    turns = {(c.id, t.id): t.text for c in dataset.conversations for t in c.turns()}
    by_id = {q.id: q for q in questions}
    kinds = {a.kind for a in built}
    assert kinds == {"vague", "specific", "contradiction"}
    for answer in built:
        gold = by_id[answer.question_id].answers[0]
        assert answer.text != gold
        if answer.kind == "vague":  # a sentence of the conversation, off the gold
            turn = answer.how.removeprefix("sentence of turn ")
            assert answer.text in turns[by_id[answer.question_id].conversation_id, turn]
            assert not content_words(answer.text) & content_words(gold)
        if answer.kind == "specific":  # another question's gold, same category
            other = by_id[answer.how.removeprefix("gold of ")]
            assert other.category == by_id[answer.question_id].category
            assert answer.text == other.answers[0]


def test_a_contradiction_changes_one_date_number_or_name() -> None:
    names = ["Andrew", "Priya", "Boulder"]
    cases = {
        "16 April 2023": ("16 April 2024", "year 2023 -> 2024"),
        "last May": ("last June", "month May -> June"),
        "1 hour 52 minutes": ("2 hour 52 minutes", "number 1 -> 2"),
        "three dogs": ("four dogs", "number three -> four"),
        "Priya's sister": ("Andrew's sister", "name Priya -> Andrew"),
    }
    for gold, (text, how) in cases.items():
        answer = contradiction_answer(_question("q", gold), names)
        assert answer is not None and (answer.text, answer.how) == (text, how)
    assert contradiction_answer(_question("q", "a golden retriever"), names) is None


def test_a_specific_answer_never_shares_a_word_with_the_gold() -> None:
    pool = [
        _question("a", "golden retriever"),
        _question("b", "a retriever puppy"),
        _question("c", "Boulder"),
        _question("d", "Paris", category=2),
    ]
    answer = specific_answer(pool[0], pool)
    assert answer is not None and (answer.text, answer.how) == ("Boulder", "gold of c")
    assert specific_answer(pool[3], pool) is None  # alone in its category


def test_a_judge_prompt_file_is_checked_before_any_call(tmp_path: Path) -> None:
    good = tmp_path / "judge.txt"
    good.write_text(
        "Question: {question}\nGold: {gold_answer}\nAnswer: {generated_answer}\n"
        'Reply {{"label": "CORRECT"}} or {{"label": "WRONG"}}.'
    )
    template = load_template(good)
    judge = TemplateJudge(template)
    message = judge.prompt("Q?", "G", "A", 1)[0]
    assert message == {
        "role": "user",
        "content": 'Question: Q?\nGold: G\nAnswer: A\nReply {"label": "CORRECT"} or '
        '{"label": "WRONG"}.',
    }
    assert judge.describe()["prompt_sha256"] == template.sha256 and len(template.sha256) == 64
    assert judge.parse('{"label": "WRONG"}') is False
    assert TemplateJudge(template, "yes").parse("Yes.") is True
    # The references' own reading: Mem0 counts only the exact label, LongMemEval an empty
    # reply as wrong; memgym's readings record such replies as unreadable instead.
    mem0 = TemplateJudge(template, "mem0-exact")
    assert (mem0.parse('{"label": "CORRECT"}'), mem0.parse('{"label": "correct"}')) == (True, False)
    assert mem0.parse("CORRECT") is None and judge.parse('{"label": "correct"}') is True
    assert TemplateJudge(template, "longmemeval-exact").parse("") is False
    assert TemplateJudge(template, "yes").parse("") is None
    bad = tmp_path / "bad.txt"
    bad.write_text("Q: {question} A: {answer} {generated_answer!r}")
    with pytest.raises(DatasetError) as error:
        load_template(bad)
    problems = {(p.field, p.message.split(";")[0]) for p in error.value.problems}
    assert problems == {
        ("{answer}", "unknown placeholder"),
        ("{generated_answer}", "conversions and format specs are not allowed"),
        ("{gold_answer}", "missing placeholder"),
    }
    assert str(bad) in str(error.value)
    bad.write_text('{"label": "CORRECT"} {question} {gold_answer} {generated_answer}')
    with pytest.raises(DatasetError, match="unknown placeholder"):
        load_template(bad)


def _tag(text: str, name: str) -> str:
    match = re.search(rf"<{name}>\n?(.*?)\n?</{name}>", text, re.S)
    assert match is not None
    return match.group(1)


def _shares_a_word(body: dict[str, Any]) -> str:
    """A scripted judge: CORRECT when the answer shares a content word with the gold."""
    text = body["messages"][-1]["content"]
    gold, answer = _tag(text, "gold_answer"), _tag(text, "generated_answer")
    correct = bool(content_words(gold) & content_words(answer))
    return f'Reason. {{"label": "{"CORRECT" if correct else "WRONG"}"}}'


def test_the_benchmark_reports_each_judges_acceptance_per_kind_through_an_endpoint(
    tmp_path: Path,
) -> None:
    template = tmp_path / "mine.txt"
    template.write_text(
        "{question}\n<gold_answer>{gold_answer}</gold_answer>\n"
        "<generated_answer>{generated_answer}</generated_answer>"
    )
    out = tmp_path / "stress.json"
    with fake_llm_server(ServerState(reply=_shares_a_word)) as url:
        done = subprocess.run(
            [
                sys.executable,
                str(BENCHMARK),
                *("--base-url", url, "--model", "scripted", "--questions", "12"),
                *("--judge-prompt", str(template), "--out", str(out)),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    report = json.loads(out.read_text())
    assert report["n_questions"] == 12
    assert set(report["acceptance"]) == {"lenient", "strict", "template"}
    assert report["judges"]["template"]["prompt_sha256"] == load_template(template).sha256
    # The rates are what the scripted judge gives the answers the benchmark built.
    dataset = load_dataset("locomo")
    questions = [q for q in dataset.questions() if q.answers][:12]
    built = stress_answers(questions, dataset.conversations)
    gold = {q.id: "; ".join(q.answers) for q in questions}
    for kind in ("vague", "specific", "contradiction"):
        mine = [a for a in built if a.kind == kind]
        accepted = sum(
            bool(content_words(gold[a.question_id]) & content_words(a.text)) for a in mine
        )
        for judge in ("lenient", "strict", "template"):
            cell = report["acceptance"][judge][kind]
            assert (cell["n"], cell["accepted"], cell["unreadable"]) == (len(mine), accepted, 0)
    assert report["acceptance"]["lenient"]["vague"]["rate"] == 0.0  # off the gold by construction
    assert report["acceptance"]["strict"]["gold"]["rate"] == 1.0
    assert json.loads(done.stdout.splitlines()[-1])["acceptance"]["strict"]["gold"] == 1.0
    assert "| contradiction |" in done.stdout and "| kind | n | lenient | strict | template |" in (
        done.stdout
    )


def test_score_grades_predictions_with_your_judge_prompt_checked_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from memgym.cli import main

    dataset = load_dataset("locomo")
    predictions = tmp_path / "predictions.jsonl"
    # Every other question answered with its gold, the rest with nothing useful.
    rows = [
        {"question_id": q.id, "prediction": q.answers[0] if i % 2 == 0 else "no idea"}
        for i, q in enumerate(dataset.questions())
    ]
    predictions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    template = tmp_path / "mine.txt"
    template.write_text(
        "{question}\n<gold_answer>{gold_answer}</gold_answer>\n"
        "<generated_answer>{generated_answer}</generated_answer>"
    )
    out = tmp_path / "report.json"
    state = ServerState(reply=_shares_a_word)
    argv = ["score", "--predictions", str(predictions), "--dataset", "locomo"]
    with fake_llm_server(state) as url:
        judge = ["--judge-base-url", url, "--judge-model", "scripted"]
        assert main([*argv, *judge, "--judge-prompt", str(template), "--out", str(out)]) == 0
        shown = capsys.readouterr().out
        report = json.loads(out.read_text())
        assert report["protocol"]["judges"]["judge_template"]["prompt_sha256"] == (
            load_template(template).sha256
        )
        graded = {r["question_id"]: r["scores"]["judge_template"] for r in report["questions"]}
        golds = {q.id: "; ".join(q.answers) for q in dataset.questions()}
        assert len(graded) == 31 and graded == {
            r["question_id"]: float(
                bool(content_words(golds[r["question_id"]]) & content_words(r["prediction"]))
            )
            for r in rows
            if r["question_id"] in graded
        }
        assert "Judge (your prompt)" in shown
        assert {r["max_tokens"] for r in state.requests} == {512}
        # memgym's own judges when no template is given: lenient, strict and their gap.
        assert main([*argv, *judge, "--judge-max-tokens", "10"]) == 0
        assert state.requests[-1]["max_tokens"] == 10
        assert "Judge sensitivity: lenient" in capsys.readouterr().out
        # A template with a wrong placeholder is refused before any request.
        seen = len(state.requests)
        template.write_text("{question} {gold} {generated_answer}")
        assert main([*argv, *judge, "--judge-prompt", str(template)]) == 2
        assert "field '{gold}': unknown placeholder" in capsys.readouterr().err
        assert len(state.requests) == seen
    assert main([*argv, "--judge-prompt", str(template)]) == 2


def test_eval_grades_every_answer_with_your_judge_prompt_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from memgym.cli import main

    template = tmp_path / "mine.txt"
    template.write_text(
        "{question}\n<gold_answer>{gold_answer}</gold_answer>\n"
        "<generated_answer>{generated_answer}</generated_answer>"
    )
    out = tmp_path / "run"
    state = ServerState(reply=_shares_a_word)
    with fake_llm_server(state) as url:
        argv = ["eval", "--retriever", "bm25", "--no-progress", "--out", str(out)]
        argv += ["--judge", "--judge-base-url", url, "--judge-model", "scripted"]
        assert main([*argv, "--judge-prompt", str(template)]) == 0
        table = capsys.readouterr().out
        asked = len(state.requests)
        assert asked == 3 * 31  # lenient, strict and the template, once per answer
        assert main([*argv, "--judge-prompt", str(template)]) == 0  # resumed: all cached
        assert len(state.requests) == asked
    results = json.loads((out / "results.json").read_text())
    judges = results["protocol"]["judges"]
    assert judges["judge_template"]["prompt_sha256"] == load_template(template).sha256
    for row in results["questions"]:
        gold, answer = "; ".join(row["gold"]), row["prediction"]
        expected = float(bool(content_words(gold) & content_words(answer)))
        assert row["scores"]["judge_template"] == row["scores"]["judge"] == expected
    assert "Judge (your prompt)" in table
    template.write_text("{question} {generated_answer}")
    assert main([*argv, "--judge-prompt", str(template)]) == 2
    assert "field '{gold_answer}': missing placeholder" in capsys.readouterr().err
    template.write_text("{question} {gold_answer} {generated_answer}")
    assert main(["eval", "--out", str(tmp_path / "x"), "--judge-prompt", str(template)]) == 2
    assert "--judge-prompt needs a judge: --judge" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
