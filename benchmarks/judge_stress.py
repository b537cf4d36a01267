"""How lenient is a judge? Three wrong answers per question, built deterministically from the
data (memgym.metrics.stress: a vague sentence on the topic from the conversation, another
question's gold of the same category, the gold with a changed date, number or name), and the
gold itself as a control, each graded by Mem0's lenient judge and its strict variant (and a
judge prompt of your own with --judge-prompt) through an OpenAI-compatible endpoint. Prints each
judge's acceptance rate per kind (the last line: the rates as one JSON object) and writes every
verdict as JSON.

    python benchmarks/judge_stress.py --data locomo10.json --split test --questions 200 \\
        --base-url http://127.0.0.1:8000/v1 --model gpt-4o-mini --out judge_stress.json

CI runs it against the local fake server (tests/test_judge_stress.py) for the mechanics only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from memgym.agents.clients import make_client
from memgym.data.loading import load_dataset
from memgym.io import atomic_write_json
from memgym.metrics.judge import Judge, Mem0Judge, judge_answer
from memgym.metrics.prompt_files import PARSE_RULES, TemplateJudge, load_template
from memgym.metrics.stress import KINDS, StressAnswer, stress_answers


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="LoCoMo file (default: the bundled sample)")
    p.add_argument("--split", default="all")
    p.add_argument("--questions", type=int, default=0, help="the first N questions (0: all)")
    p.add_argument(
        "--categories", type=int, nargs="*", default=None, help="only these LoCoMo categories"
    )
    p.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint of the judge")
    p.add_argument("--model", required=True, help="the judge model")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY")
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--judge-prompt", type=Path, default=None, help="a judge template to add")
    p.add_argument("--judge-parse", choices=PARSE_RULES, default="label")
    p.add_argument("--out", type=Path, default=None, help="write every verdict here (JSON)")
    p.add_argument("--quick", action="store_true", help="the first 10 questions only")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    judges: dict[str, Judge] = {"lenient": Mem0Judge("lenient"), "strict": Mem0Judge("strict")}
    if args.judge_prompt is not None:  # checked before any call
        judges["template"] = TemplateJudge(load_template(args.judge_prompt), args.judge_parse)
    dataset = load_dataset("locomo", args.data, args.split)
    questions = [
        q
        for q in dataset.questions()
        if q.answers and (args.categories is None or q.category in args.categories)
    ]
    if args.questions or args.quick:
        questions = questions[: args.questions or 10]
    client = make_client(
        {
            "base_url": args.base_url,
            "model": args.model,
            "api_key_env": args.api_key_env,
            "timeout": args.timeout,
            "temperature": 0.0,
        }
    )
    answers = [
        StressAnswer(q.id, "gold", q.answers[0], "the gold itself (control)") for q in questions
    ] + stress_answers(questions, dataset.conversations)
    by_id = {q.id: q for q in questions}
    verdicts = []
    for answer in answers:
        question = by_id[answer.question_id]
        for name, judge in judges.items():
            verdict = judge_answer(
                judge,
                client,
                question.text,
                "; ".join(question.answers),
                answer.text,
                question.category,
            )
            verdicts.append(
                {
                    "question_id": answer.question_id,
                    "kind": answer.kind,
                    "answer": answer.text,
                    "how": answer.how,
                    "judge": name,
                    "correct": verdict.correct,
                    "error": verdict.error,
                }
            )
    report = {
        "data": dataset.source,
        "content_hash": dataset.content_hash,
        "split": dataset.split,
        "n_questions": len(questions),
        "judge_model": args.model,
        "judges": {name: judge.describe() for name, judge in judges.items()},
        "acceptance": acceptance(verdicts),
        "not_built": {
            kind: len(questions) - sum(a.kind == kind for a in answers) for kind in KINDS
        },
        "verdicts": verdicts,
    }
    print(table(report))
    rates = {
        judge: {kind: cell["rate"] for kind, cell in cells.items()}
        for judge, cells in report["acceptance"].items()
    }
    print(json.dumps({"n_questions": len(questions), "acceptance": rates}))
    if args.out is not None:
        atomic_write_json(args.out, report)
    return report


def acceptance(verdicts: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per judge and kind: answers graded, accepted, unreadable, and the acceptance rate
    (accepted over readable verdicts)."""
    counts: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for v in verdicts:
        cell = counts[v["judge"]].setdefault(v["kind"], {"n": 0, "accepted": 0, "unreadable": 0})
        cell["n"] += 1
        cell["accepted"] += v["correct"] is True
        cell["unreadable"] += v["correct"] is None
    for cells in counts.values():
        for cell in cells.values():
            readable = cell["n"] - cell["unreadable"]
            cell["rate"] = cell["accepted"] / readable if readable else None
    return dict(counts)


def table(report: dict[str, Any]) -> str:
    judges = list(report["acceptance"])
    lines = [
        f"Judge {report['judge_model']} on {report['n_questions']} questions of "
        f"{report['data']} (split {report['split']}): share of answers accepted",
        "| kind | n | " + " | ".join(judges) + " |",
        "|---|---|" + "---|" * len(judges),
    ]
    for kind in ("gold", *KINDS):
        cells = [report["acceptance"][j].get(kind) for j in judges]
        n = next((c["n"] for c in cells if c), 0)
        shown = [
            ""
            if not c or c["rate"] is None
            else f"{100 * c['rate']:.2f}%"
            + (f" ({c['unreadable']} unreadable)" if c["unreadable"] else "")
            for c in cells
        ]
        lines.append(f"| {kind} | {n} | " + " | ".join(shown) + " |")
    missing = ", ".join(f"{k} {n}" for k, n in report["not_built"].items() if n)
    if missing:
        lines.append(f"Not built (nothing to build from): {missing}.")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
