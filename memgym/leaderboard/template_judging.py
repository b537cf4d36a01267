"""A run's answers graded once more, with the user's own judge prompt (`memgym eval
--judge-prompt FILE`), after every conversation is done: the score `judge_template` beside
memgym's lenient and strict judges, the template's sha256 in the results. The calls go through
the reply cache in the run's folder, so a resumed or repeated run asks the judge nothing
twice."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from memgym.agents.clients import make_client
from memgym.leaderboard.config import EvalConfig, LLMSettings
from memgym.metrics.judge import judge_answer
from memgym.metrics.prompt_files import TemplateJudge
from memgym.redaction import redact

SCORE = "judge_template"


def judge_model(config: EvalConfig) -> LLMSettings | None:
    """The model that grades: the judge's own, or the answerer's under --judge-self."""
    if config.judge is None:
        return None
    return config.llm if config.judge.same_as_answerer else config.judge.llm


def grade_with_template(
    config: EvalConfig,
    judge: TemplateJudge,
    per_conversation: Sequence[dict[str, Any]],
    llm_cache: str | None,
) -> list[dict[str, Any]]:
    """Copies of the per-conversation results whose question rows carry the template judge's
    verdict (score and details, as the other judges' are recorded)."""
    settings = judge_model(config)
    if settings is None:
        raise ValueError("--judge-prompt needs a judge model (--judge with --judge-base-url)")
    client = make_client(settings.client_spec(llm_cache))
    rows = [
        (c, i) for c, result in enumerate(per_conversation) for i in range(len(result["questions"]))
    ]

    def grade(where: tuple[int, int]) -> dict[str, Any]:
        row = per_conversation[where[0]]["questions"][where[1]]
        verdict = judge_answer(
            judge,
            client,
            str(row["question"]),
            "; ".join(map(str, row["gold"])),
            str(row["prediction"]),
            row["category"],
        )
        return {
            "score": verdict.score,
            "details": {
                "correct": verdict.correct,
                "raw": redact(verdict.raw),
                "reasoning": verdict.reasoning,
                "error": verdict.error,
            },
        }

    with ThreadPoolExecutor(max_workers=max(1, settings.concurrency)) as pool:
        verdicts = list(pool.map(grade, rows))
    graded = [{**result, "questions": list(result["questions"])} for result in per_conversation]
    for (c, i), verdict in zip(rows, verdicts, strict=True):
        row = graded[c]["questions"][i]
        graded[c]["questions"][i] = {
            **row,
            "scores": {**row["scores"], SCORE: verdict["score"]},
            "judges": {**row.get("judges", {}), SCORE: verdict["details"]},
        }
    return graded
