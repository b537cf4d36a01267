"""An answer prompt from a file (`--answer-prompt`): the llm answerer sends the user's template
filled with memgym's memories block and the question, as one user message; the placeholders are
checked before anything runs, and the file's sha256 is recorded and fingerprinted."""

from __future__ import annotations

import json
from pathlib import Path

from fake_llm_server import ServerState, fake_llm_server

from memgym.cli import main
from memgym.io import sha256_file
from memgym.leaderboard.config import EvalConfig

TEMPLATE = "Answer from these notes only.\n{memories}\nQ: {question}\nReply in five words.\n"


def _eval(url: str, out: Path, *extra: str) -> int:
    return main(
        [
            *("eval", "--manager", "add_all", "--answerer", "llm", "--retriever", "bm25"),
            *("--base-url", url, "--model", "m", "--out", str(out), "--no-progress", *extra),
        ]
    )


def test_the_template_is_sent_filled_and_recorded(tmp_path: Path) -> None:
    template = tmp_path / "answer.txt"
    template.write_text(TEMPLATE)
    state = ServerState(reply=lambda body: "**Answer:** Buddy")
    with fake_llm_server(state) as url:
        assert _eval(url, tmp_path / "run", "--answer-prompt", str(template)) == 0
    sent = [r["messages"] for r in state.requests]
    assert sent and all(len(m) == 1 and m[0]["role"] == "user" for m in sent)
    first = sent[0][0]["content"]
    assert first.startswith("Answer from these notes only.\n<memories>\nMemories of ")
    assert "\nQ: (asked on " in first and first.endswith("Reply in five words.\n")
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    recorded = results["agents"]["answerer"]["answer_prompt"]
    assert recorded == {"path": str(template), "sha256": sha256_file(template)}
    assert results["summary"]["n_questions"] == 31


def test_the_fingerprint_follows_the_files_content(tmp_path: Path) -> None:
    template = tmp_path / "answer.txt"
    template.write_text(TEMPLATE)
    with_file = EvalConfig(answerer="llm", answer_prompt=str(template)).fingerprint("x")
    assert with_file != EvalConfig(answerer="llm").fingerprint("x")
    template.write_text(TEMPLATE + "Be brief.\n")
    assert EvalConfig(answerer="llm", answer_prompt=str(template)).fingerprint("x") != with_file


def test_a_bad_template_or_answerer_is_refused_before_any_call(tmp_path: Path) -> None:
    state = ServerState()
    with fake_llm_server(state) as url:
        for name, text in (
            ("missing.txt", "Notes: {memories}\n"),
            ("unknown.txt", "{memories}\n{question}\n{gold_answer}\n"),
            ("brace.txt", "{memories} {question} {"),
        ):
            path = tmp_path / name
            path.write_text(text)
            out = tmp_path / name.replace(".txt", "")
            assert _eval(url, out, "--answer-prompt", str(path)) == 2
            assert not (out / "manifest.json").exists()
        good = tmp_path / "good.txt"
        good.write_text(TEMPLATE)
        out = tmp_path / "extractive"
        code = main(
            [
                *("eval", "--answerer", "extractive", "--answer-prompt", str(good)),
                *("--out", str(out), "--no-progress"),
            ]
        )
        assert code == 2 and not (out / "manifest.json").exists()
    assert state.requests == []
