"""`memgym report` in the terminal: each run's scores with their intervals, then, for every
pair of runs, a paired test on the questions both scored, per category and overall."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memgym.data.categories import Naming, key_label
from memgym.data.errata import Errata
from memgym.io import atomic_write_bytes
from memgym.leaderboard.html import (
    ReportError,
    Run,
    check_same_subset,
    load_run,
    metrics_of,
    render_page,
)
from memgym.leaderboard.reframe import apply_errata_to_run, shared_questions
from memgym.leaderboard.report import METRIC_LABELS, errata_lines, subset_line
from memgym.metrics.uncertainty import paired_difference

NAME_WIDTH = 18


def comparison_text(
    runs: Sequence[Run],
    naming: Naming = "locomo",
    metrics: Sequence[str] | None = None,
    shared_note: dict[str, Any] | None = None,
    brief: bool = False,
) -> str:
    """The whole terminal report (see the module docstring): a leaderboard of overall scores,
    each run per category, then the paired tests; `brief` keeps the leaderboard and the
    overall line of each paired test."""
    chosen = list(metrics) if metrics else metrics_of(runs)
    first = runs[0].results
    lines = [subset_line(first, naming)]
    if shared_note is not None:
        counts = ", ".join(f"{folder} {n}" for folder, n in shared_note["n_per_run"].items())
        lines.append(
            f"Compared on the {shared_note['n_shared']} questions all runs share (of {counts})."
        )
    stamps = [run.results["subset"].get("errata") for run in runs]
    same_errata = all(stamp == stamps[0] for stamp in stamps)
    if same_errata and first.get("errata"):
        lines += errata_lines(first["errata"], naming)
    intervals = first["summary"].get("intervals")
    if intervals:
        lines.append(
            f"Brackets: {100 * intervals['confidence']:.0f}% bootstrap intervals, resampling "
            f"{intervals['resampled']} ({intervals['resamples']} resamples, seed "
            f"{intervals['seed']}); scores in percent."
        )
    letters = [_letter(i) for i in range(len(runs))]
    lines += ["", *_leaderboard(runs, letters, chosen)]
    for letter, run in zip(letters, runs, strict=True):
        if not same_errata:
            errata = run.results.get("errata")
            stated = " ".join(errata_lines(errata, naming)) if errata else "Errata: none."
            lines.append(f"[{letter}] {stated}")
        if not brief:
            lines += ["", f"[{letter}] {run.results['title']} ({run.folder})"]
            lines += _run_table(run, chosen, naming)
    pairs = [
        (letters[i], a, letters[j], b)
        for (i, a), (j, b) in itertools.combinations(enumerate(runs), 2)
    ]
    unpaired = [f"[{n}]" for n, run in zip(letters, runs, strict=True) if not _has_rows(run)]
    if unpaired and pairs:
        lines += ["", f"No paired tests: {', '.join(unpaired)} hold no per-question rows."]
        pairs = []
    if brief and pairs:
        lines += ["", *_pair_summary(pairs, chosen)]
    else:
        for pair in pairs:
            lines += _pair_tables(*pair, chosen, naming)
    return "\n".join(lines) + "\n"


def _leaderboard(runs: Sequence[Run], letters: Sequence[str], metrics: Sequence[str]) -> list[str]:
    """One row per run: its overall scores with their intervals."""
    width = 21
    titles = [
        f"[{letter}] {run.results['title']}" for letter, run in zip(letters, runs, strict=True)
    ]
    name_width = min(max(len(t) for t in titles), 64)
    lines = [
        f"  {'run':{name_width}s} {'n':>5s}  "
        + "".join(f"{METRIC_LABELS.get(m, m):{width}s}" for m in metrics)
        + "folder"
    ]
    for title, run in zip(titles, runs, strict=True):
        summary = run.results["summary"]
        intervals = (summary.get("intervals") or {}).get("overall", {})
        cells = "".join(
            f"{_score(summary['overall'].get(m), intervals.get(m)):{width}s}" for m in metrics
        )
        lines.append(
            f"  {title[:name_width]:{name_width}s} {summary['n_questions']:5d}  {cells}{run.folder}"
        )
    return ["Overall scores:", *lines]


def _pair_summary(pairs: Sequence[tuple[str, Run, str, Run]], metrics: Sequence[str]) -> list[str]:
    """Every pair's overall paired test, one line per pair and metric."""
    lines = [
        "Paired tests on the shared questions, overall (first run minus second; paired "
        "bootstrap, p two-sided, MDD at 80% power and alpha 0.05):",
        f"  {'pair':9s} {'metric':14s} {'n':>5s} {'diff':>7s}  {'95% interval':15s} "
        f"{'p':>6s} {'MDD':>6s}",
    ]
    for name_a, a, name_b, b in pairs:
        test = paired_difference(a.results["questions"], b.results["questions"], metrics)
        for metric in metrics:
            result = test["overall"].get(metric)
            if result is None:
                continue
            low, high = result["interval"]
            lines.append(
                f"  {f'{name_a} - {name_b}':9s} {METRIC_LABELS.get(metric, metric)[:14]:14s} "
                f"{result['n']:5d} {100 * result['difference']:+7.2f}  "
                f"{f'[{100 * low:+.1f}, {100 * high:+.1f}]':15s} "
                f"{_p(result['p_value']):>6s} {100 * result['minimum_detectable']:6.1f}"
            )
    return lines


def _has_rows(run: Run) -> bool:
    rows = run.results.get("questions")
    return isinstance(rows, list) and all(isinstance(r, dict) and "question_id" in r for r in rows)


def _letter(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"R{index + 1}"


def _run_table(run: Run, metrics: Sequence[str], naming: Naming) -> list[str]:
    summary = run.results["summary"]
    intervals = summary.get("intervals") or {}
    detectable = summary.get("minimum_detectable") or {}
    width = 21
    header = f"  {'category':{NAME_WIDTH}s} {'n':>5s} {'MDD':>6s}  " + "".join(
        f"{METRIC_LABELS.get(m, m):{width}s}" for m in metrics
    )
    lines = [header]
    rows = [
        (key_label(k, naming), row, intervals.get("by_category", {}).get(k, {}), k)
        for k, row in summary["by_category"].items()
    ]
    rows.append(
        (
            "overall",
            {"n": summary["n_questions"], **summary["overall"]},
            intervals.get("overall", {}),
            None,
        )
    )
    for name, row, cell_intervals, key in rows:
        mdd = (
            detectable.get("overall") if key is None else detectable.get("by_category", {}).get(key)
        )
        cells = "".join(f"{_score(row.get(m), cell_intervals.get(m)):{width}s}" for m in metrics)
        lines.append(
            f"  {name[:NAME_WIDTH]:{NAME_WIDTH}s} {row['n']:5d} "
            f"{'' if mdd is None else f'{100 * mdd:.1f}':>6s}  {cells}".rstrip()
        )
    return lines


def _score(value: float | None, interval: list[float] | None) -> str:
    if value is None:
        return "-"
    if not interval:
        return f"{100 * value:.2f}"
    return f"{100 * value:.2f} [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def _pair_tables(
    name_a: str, a: Run, name_b: str, b: Run, metrics: Sequence[str], naming: Naming
) -> list[str]:
    test = paired_difference(a.results["questions"], b.results["questions"], metrics)
    lines = [
        "",
        f"[{name_a}] - [{name_b}] on their {test['n_shared']} shared questions: paired bootstrap "
        f"({test['resampled']}; {test['resamples']} resamples, seed {test['seed']}); p two-sided; "
        "MDD the smallest difference these questions detect (80% power, alpha 0.05) given the "
        "spread of the paired differences",
    ]
    cells = [*test["by_category"].items(), ("overall", test["overall"])]
    for metric in metrics:
        if not any(metric in cell for _, cell in cells):
            continue
        lines += [
            f"  {METRIC_LABELS.get(metric, metric)}",
            f"    {'category':{NAME_WIDTH}s} {'n':>5s} {name_a:>7s} {name_b:>7s} "
            f"{'diff':>7s}  {'95% interval':15s} {'p':>6s} {'MDD':>6s}",
        ]
        for key, cell in cells:
            result = cell.get(metric)
            if result is None:
                continue
            low, high = result["interval"]
            name = "overall" if key == "overall" else key_label(key, naming)
            lines.append(
                f"    {name[:NAME_WIDTH]:{NAME_WIDTH}s} {result['n']:5d} "
                f"{100 * result['a']:7.2f} {100 * result['b']:7.2f} "
                f"{100 * result['difference']:+7.2f}  "
                f"{f'[{100 * low:+.1f}, {100 * high:+.1f}]':15s} "
                f"{_p(result['p_value']):>6s} {100 * result['minimum_detectable']:6.1f}"
            )
    return lines


def _p(value: float) -> str:
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def run_report(
    folders: Sequence[Path],
    *,
    html: Path | None = None,
    naming: Naming = "locomo",
    shared: bool = False,
    errata: Errata | None = None,
    metrics: Sequence[str] | None = None,
    brief: bool = False,
) -> str:
    """`memgym report`: load the runs, apply errata to their recorded golds, restrict them to
    their shared questions when asked (else refuse runs over different subsets), write the HTML
    page when `html` is given, and return the terminal report."""
    runs = [load_run(folder) for folder in folders]
    if errata is not None:
        runs = [apply_errata_to_run(run, errata) for run in runs]
    note = None
    if shared:
        # Same question ids; golds may differ (a run with errata against its original).
        check_same_subset(runs, ("dataset",))
        runs, note = shared_questions(runs)
    else:
        check_same_subset(runs)
    if metrics:
        unknown = [m for m in metrics if m not in metrics_of(runs)]
        if unknown:
            raise ReportError(
                f"no run scored {', '.join(unknown)}; scored: {', '.join(metrics_of(runs))}"
            )
    try:  # both rendered before anything is written
        text = comparison_text(runs, naming, metrics, note, brief)
        page = None if html is None else render_page(runs, naming)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        # load_run checks the fields every report reads; a hand-edited optional section
        # (errata, intervals) of the wrong shape still ends here, named by its files.
        files = ", ".join(str(run.folder / "results.json") for run in runs)
        raise ReportError(
            f"{files}: a field has an unexpected form ({type(exc).__name__}: {exc}); is it a "
            "hand-edited memgym results file?"
        ) from exc
    if html is not None and page is not None:
        atomic_write_bytes(html, page.encode("utf-8"))
    return text
