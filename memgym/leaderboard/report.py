"""Outputs of an evaluation: results.json, predictions.jsonl, leaderboard.md, a bar chart.

Every table states the question subset (dataset, split, count, categories, adversarial in or
out) and the category naming it prints. A run whose reader reads gold answers is labelled
ORACLE in the title, the table and the plot, and is never shown beside published rows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memgym.data.categories import Naming, key_label
from memgym.io import atomic_write_bytes, atomic_write_json
from memgym.leaderboard.published import MEMORY_R1_LOCOMO_TEST, MEMORY_R1_SOURCE
from memgym.leaderboard.results import naming_note
from memgym.metrics.scoring import PREDICTIONS_HEADER

METRIC_LABELS = {
    "exact_match": "EM",
    "locomo_f1": "F1 (LoCoMo)",
    "mem0_f1": "F1 (Mem0)",
    "bleu1": "BLEU-1",
    "judge": "Judge (lenient)",
    "judge_strict": "Judge (strict)",
    "judge_template": "Judge (your prompt)",
}
EM_NOTE = (
    "EM (exact match) is near 0 for extractive readers: LoCoMo's gold answers are mostly "
    "written by annotators, not spans copied from the conversation."
)


def em_note_applies(results: dict[str, Any]) -> bool:
    """The EM note explains an extractive reader's scores; an ORACLE run or a submission has
    none."""
    config = results.get("config")
    return (
        results.get("kind", "run") == "run"
        and not results.get("oracle")
        and isinstance(config, dict)
        and config.get("answerer") == "extractive"
        and "exact_match" in results["summary"]["overall"]
    )


def write_outputs(out: Path, results: dict[str, Any], naming: Naming = "locomo") -> None:
    """Write every output file atomically."""
    atomic_write_json(out / "results.json", results)
    subset = results["subset"]
    header = {
        "format": PREDICTIONS_HEADER,
        "dataset": subset["dataset"],
        "data": results["dataset"]["source"],
        "split": subset["split"],
        "include_adversarial": results["dataset"]["include_adversarial"],
        "content_hash": subset["content_hash"],
    }
    lines = (
        json.dumps(header)
        + "\n"
        + "".join(
            json.dumps(
                {"question_id": r["question_id"], "prediction": r["prediction"]}, ensure_ascii=False
            )
            + "\n"
            for r in results["questions"]
        )
    )
    atomic_write_bytes(out / "predictions.jsonl", lines.encode("utf-8"))
    atomic_write_bytes(out / "leaderboard.md", markdown_table(results, naming).encode("utf-8"))
    plot_categories(results, out / "categories.png", naming)


def subset_line(results: dict[str, Any], naming: Naming) -> str:
    subset = results["subset"]
    return (
        f"Subset: {subset['dataset']} split {subset['split']}, {subset['n_questions']} questions, "
        f"categories {'/'.join(subset['categories'])}, adversarial {subset['adversarial']}; "
        f"{naming_note(naming)}."
    )


def markdown_table(
    results: dict[str, Any], naming: Naming = "locomo", published: bool = True
) -> str:
    """Per-category and overall scores (percent), with the subset, protocol, cost and, where
    measured, judge sensitivity, memory integrity and injection results."""
    summary = results["summary"]
    metrics = list(summary["overall"])
    intervals = summary.get("intervals")
    detectable = summary.get("minimum_detectable")
    header = ["category", "n", *(METRIC_LABELS.get(m, m) for m in metrics)]
    if detectable:
        header.append("MDD")
    lines = [
        f"### {results['title']}",
        "",
        subset_line(results, naming),
        f"Protocol {results['protocol']['name']} v{results['protocol']['version']}; "
        f"dataset sha256 {results['dataset']['content_hash'][:12]}"
        + (
            f"; retriever {results['retrieval']['retriever']}, reader context "
            f"{_context_rule(results['retrieval'])}"
            if "retrieval" in results
            else ""
        )
        + ".",
    ]
    if results.get("oracle"):
        lines += [
            "",
            "**ORACLE**: an agent reads gold answers (the oracle_support answerer, or the "
            "evidence manager); these scores are a reference, not a result, and are not "
            "comparable to any system's.",
        ]
    lines += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key, row in summary["by_category"].items():
        cell_intervals = (intervals or {}).get("by_category", {}).get(key, {})
        cells = [
            key_label(key, naming),
            str(row["n"]),
            *(score_cell(row[m], cell_intervals.get(m)) for m in metrics),
        ]
        if detectable:
            cells.append(_points(detectable["by_category"].get(key)))
        lines.append("| " + " | ".join(cells) + " |")
    overall_intervals = (intervals or {}).get("overall", {})
    overall = [
        score_cell(summary["overall"][m], overall_intervals.get(m), bold=True) for m in metrics
    ]
    if detectable:
        overall.append(_points(detectable.get("overall")))
    lines.append(
        "| **overall** | " + str(summary["n_questions"]) + " | " + " | ".join(overall) + " |"
    )
    if intervals:
        lines += ["", uncertainty_line(summary)]
    if em_note_applies(results):
        lines += ["", EM_NOTE]
    if results.get("errata"):
        lines += ["", *errata_lines(results["errata"], naming)]
    lines += _notes(results)
    if published and _comparable_to_published(results):
        lines += [
            "",
            f"Published figures for context ({MEMORY_R1_SOURCE}; overall F1 / BLEU-1 / judge):",
            "",
        ]
        lines += ["| backbone | method | F1 | BLEU-1 | judge |", "|---|---|---|---|---|"]
        for backbone, rows in MEMORY_R1_LOCOMO_TEST.items():
            for method, (f1, b1, judge) in rows.items():
                lines.append(f"| {backbone} | {method} | {f1:.2f} | {b1:.2f} | {judge:.2f} |")
    return "\n".join(lines) + "\n"


def score_cell(value: float, interval: list[float] | None, bold: bool = False) -> str:
    """A score in percent with its 95% interval: `30.03 [17.3, 43.1]`."""
    shown = f"**{100 * value:.2f}**" if bold else f"{100 * value:.2f}"
    if not interval:
        return shown
    return f"{shown} [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def _points(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}"


def uncertainty_line(summary: dict[str, Any]) -> str:
    """How the intervals and the minimum detectable difference were computed."""
    intervals = summary["intervals"]
    line = (
        f"Brackets: {100 * intervals['confidence']:.0f}% bootstrap intervals, resampling "
        f"{intervals['resampled']} ({intervals['resamples']} resamples, seed {intervals['seed']})."
    )
    detectable = summary.get("minimum_detectable")
    if detectable:
        line += (
            f" MDD: the smallest difference in points a category's size can detect "
            f"({100 * detectable['power']:.0f}% power, alpha {detectable['alpha']}), assuming "
            f"{detectable['assumes']}."
        )
    return line


def errata_lines(errata: dict[str, Any], naming: Naming) -> list[str]:
    """What the errata did and the ceiling the original golds impose."""
    affected = ", ".join(
        f"{key_label(k, naming)} {v}" for k, v in errata["affected_by_category"].items()
    )
    verb = "excluded" if errata["mode"] == "exclude" else "corrected"
    lines = [
        f"Errata ({errata['mode']} mode): {errata['source']}, sha256 {errata['sha256'][:12]}; "
        f"{errata['affected']} questions {verb} ({affected or 'none'}) of {errata['flagged']} "
        f"flagged here; data sha256 before errata {errata['data_hash'][:12]}."
    ]
    ceiling = errata.get("ceiling")
    if ceiling:
        scores = ", ".join(
            f"{METRIC_LABELS.get(m, m)} {100 * v:.2f}"
            for m, v in ceiling["overall"].items()
            if m != "right_golds"
        )
        per_category = ", ".join(
            f"{key_label(k, naming)} {100 * row['right_golds']:.2f}%"
            for k, row in ceiling["by_category"].items()
        )
        lines.append(
            f"Ceiling under the original golds (a perfect system, {ceiling['n_questions']} "
            f"questions): {100 * ceiling['overall']['right_golds']:.2f}% of golds are right "
            f"({per_category}); its lexical scores: {scores}."
        )
    return lines


def _context_rule(retrieval: dict[str, Any]) -> str:
    k = retrieval.get("answer_k_per_namespace")
    cap = f"top {k} per speaker" if k else "best first"
    rule = f"{cap} within {retrieval.get('answer_prompt_tokens')} tokens"
    capacity = retrieval.get("memory_capacity")
    if capacity is not None:
        share = isinstance(capacity, float)
        size = f"{capacity:g} of its speaker's fact tokens" if share else f"{capacity} tokens"
        rule += f"; each bank holds at most {size}"
    return rule


def _comparable_to_published(results: dict[str, Any]) -> bool:
    subset = results["subset"]
    return (
        not results.get("oracle")
        and subset["dataset"] == "locomo"
        and subset["split"] == "test"
        and subset["n_questions"] == 1307
        and subset["categories"] == ["1", "2", "3", "4"]
    )


def _notes(results: dict[str, Any]) -> list[str]:
    summary = results["summary"]
    notes = []
    if "judge_gap" in summary:
        notes.append(
            f"Judge sensitivity: lenient {100 * summary['overall']['judge']:.2f} vs strict "
            f"{100 * summary['overall']['judge_strict']:.2f} (gap {100 * summary['judge_gap']:.2f} "
            f"points); judge model {results['protocol'].get('judge_model')}."
        )
    cost = cost_line(results)
    if cost:
        notes.append(cost)
    integrity = results.get("integrity")
    if integrity:
        notes.append(
            f"Memory integrity: {100 * integrity['memory_support']:.1f}% of memories supported "
            f"by their source facts; {100 * integrity['fact_coverage']:.1f}% of facts represented."
        )
    injection = results.get("injection")
    if injection:
        notes.append(
            f"Injection: {injection['instructions']} instructions (obeyed "
            f"{100 * injection['instruction_obeyed_rate']:.0f}%, stored "
            f"{100 * injection['instruction_stored_rate']:.0f}%), {injection['false_facts']} false "
            f"facts (stored {100 * injection['false_fact_stored_rate']:.0f}%, used "
            f"{100 * injection['false_fact_used_rate']:.0f}%); success rate "
            f"{100 * injection['success_rate']:.0f}%."
        )
    evidence = summary.get("evidence")
    if evidence and evidence.get("recall") is not None:
        notes.append(
            f"Evidence recall of the reader's context: {100 * evidence['recall']:.1f}% over "
            f"{evidence['n_with_evidence']} questions ({evidence['n_without_evidence']} without "
            "evidence, counted apart)."
        )
    if summary.get("n_failures"):
        notes.append(f"{summary['n_failures']} failures (see results.json `failures`).")
    return [""] + [f"- {n}" for n in notes] if notes else []


def cost_line(results: dict[str, Any]) -> str | None:
    """The run's cost in one sentence (None without a cost section, and for submissions)."""
    cost = results.get("cost")
    if not cost or results.get("kind") == "submission":  # it ran nothing here: no cost
        return None
    llm = cost["llm"]
    requests = sum(llm[s].get("requests_per_question", 0) for s in llm)
    return (
        f"Cost: {cost['context_tokens_per_question']:.0f} context tokens per question "
        f"({cost['tokenizer']}); {cost['bank_memories_per_conversation']:.1f} memories, "
        f"{cost['bank_chars_per_conversation']:.0f} characters per bank; "
        f"{requests:.2f} LLM requests per question."
    )


def plot_categories(results: dict[str, Any], path: Path, naming: Naming = "locomo") -> bool:
    """A grouped bar chart of every metric per category; False if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    summary = results["summary"]
    metrics = list(summary["overall"])
    groups = [*summary["by_category"], "overall"]
    values = [
        [
            100 * (summary["overall"] if g == "overall" else summary["by_category"][g])[m]
            for g in groups
        ]
        for m in metrics
    ]
    figure, axes = plt.subplots(figsize=(1.6 * len(groups) + 2, 4))
    width = 0.8 / len(metrics)
    for i, (metric, row) in enumerate(zip(metrics, values, strict=True)):
        axes.bar(
            [g + i * width for g in range(len(groups))],
            row,
            width,
            label=METRIC_LABELS.get(metric, metric),
        )
    axes.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
    axes.set_xticklabels(
        [key_label(g, naming) if g != "overall" else "overall" for g in groups], rotation=15
    )
    axes.set_ylabel("score (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8)
    axes.set_title(results["title"][:90])
    cost = cost_line(results)
    if cost:  # accuracy is read beside what it cost
        figure.text(0.01, 0.01, cost, fontsize=7, wrap=True)
    figure.tight_layout(rect=(0, 0.06 if cost else 0, 1, 1))
    tmp = path.with_suffix(".tmp.png")
    figure.savefig(tmp, dpi=100)
    plt.close(figure)
    tmp.replace(path)
    return True
