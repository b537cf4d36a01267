"""Outputs of an evaluation: results.json, predictions.jsonl, leaderboard.md, a bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memgym.data.categories import Naming, category_label
from memgym.io import atomic_write_bytes, atomic_write_json
from memgym.leaderboard.published import MEMORY_R1_LOCOMO_TEST, MEMORY_R1_SOURCE

METRIC_LABELS = {
    "exact_match": "EM",
    "locomo_f1": "F1 (LoCoMo)",
    "mem0_f1": "F1 (Mem0)",
    "bleu1": "BLEU-1",
    "judge": "Judge",
}


def write_outputs(out: Path, results: dict[str, Any], naming: Naming = "locomo") -> None:
    """Write every output file atomically."""
    atomic_write_json(out / "results.json", results)
    lines = "".join(
        json.dumps(
            {"question_id": r["question_id"], "prediction": r["prediction"]}, ensure_ascii=False
        )
        + "\n"
        for r in results["questions"]
    )
    atomic_write_bytes(out / "predictions.jsonl", lines.encode("utf-8"))
    atomic_write_bytes(out / "leaderboard.md", markdown_table(results, naming).encode("utf-8"))
    plot_categories(results, out / "categories.png", naming)


def _label(key: str, naming: Naming) -> str:
    category: int | str = int(key) if key.isdigit() else key
    label = category_label(category, naming)
    return f"{key} {label}" if label != key else key


def markdown_table(
    results: dict[str, Any], naming: Naming = "locomo", published: bool = True
) -> str:
    """Per-category and overall scores (percent), LoCoMo or Mem0 category naming."""
    summary = results["summary"]
    metrics = list(summary["overall"])
    config = results["config"]
    data = results["dataset"]
    title = (
        f"{config['manager']} manager + {config['answerer']} answerer on "
        f"{data['name']} ({data['variant']}), split {data['split']}"
    )
    header = ["category", "n", *(METRIC_LABELS.get(m, m) for m in metrics)]
    lines = [
        f"### {title}",
        "",
        f"Protocol {results['protocol']['name']} v{results['protocol']['version']}; "
        f"category names: {naming}; retriever {results['retrieval']['retriever']}; "
        f"dataset sha256 {results['dataset']['content_hash'][:12]}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for key, row in summary["by_category"].items():
        cells = [_label(key, naming), str(row["n"]), *(f"{100 * row[m]:.2f}" for m in metrics)]
        lines.append("| " + " | ".join(cells) + " |")
    overall = [f"**{100 * summary['overall'][m]:.2f}**" for m in metrics]
    lines.append(
        "| **overall** | " + str(summary["n_questions"]) + " | " + " | ".join(overall) + " |"
    )
    if summary.get("n_failures"):
        lines += ["", f"{summary['n_failures']} answers failed (see results.json `failures`)."]
    is_locomo_test = (
        results["dataset"]["name"] == "locomo" and results["dataset"]["split"] == "test"
    )
    if published and is_locomo_test:
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
        [_label(g, naming) if g != "overall" else "overall" for g in groups], rotation=15
    )
    axes.set_ylabel("score (%)")
    axes.set_ylim(0, 100)
    axes.legend(fontsize=8)
    axes.set_title(f"{results['config']['manager']} + {results['config']['answerer']}")
    figure.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    figure.savefig(tmp, dpi=100)
    plt.close(figure)
    tmp.replace(path)
    return True
