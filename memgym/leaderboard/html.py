"""One static HTML page comparing `memgym eval` runs that score the same question subset.

The page is self-contained (inline CSS, JS and SVG; it fetches nothing), so it can be archived
or mailed as one file. results.json files are untrusted data: every string read from them is
escaped, and every number is checked to be a finite number before it is shown.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ijson

from memgym import __version__
from memgym.data.categories import Naming, key_label
from memgym.data.jsonstream import load_root, open_json
from memgym.data.problems import preview
from memgym.io import atomic_write_bytes
from memgym.leaderboard.published import MEMORY_R1_LOCOMO_TEST, MEMORY_R1_SOURCE
from memgym.leaderboard.report import (
    EM_NOTE,
    METRIC_LABELS,
    em_note_applies,
    errata_lines,
    subset_line,
)
from memgym.metrics.uncertainty import paired_difference
from memgym.textsafe import valid_json, warn_report

SUBSET_KEYS = ("dataset", "split", "content_hash", "n_questions", "categories", "adversarial")
ORACLE_NOTE = (
    "ORACLE runs read gold answers: their scores are a reward proxy, not a result, and are not "
    "comparable to any system's."
)
# Okabe-Ito colours (distinguishable with colour-vision deficiencies), yellow left out: it is
# unreadable on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")


class ReportError(ValueError):
    """The runs cannot be shown on one page: an unreadable results.json or different subsets."""


@dataclass(frozen=True)
class Run:
    """One run: its results.json document and the folder it was read from (its name in errors)."""

    folder: Path
    results: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.folder} ({self.results['title']!r})"


@dataclass(frozen=True)
class Column:
    """A numeric column of the runs table: `read` gives a run's value (None: not measured),
    shown times `scale` with `digits` decimals."""

    key: str
    group: str
    label: str
    read: Callable[[dict[str, Any]], float | None]
    scale: float
    digits: int
    note: str = ""
    interval: Callable[[dict[str, Any]], tuple[float, float] | None] | None = None


def write_report(runs: Sequence[Path], html: Path, naming: Naming = "locomo") -> None:
    """Atomically write one HTML page comparing the runs in these `memgym eval` folders;
    ReportError if a results.json is unreadable or the runs do not share one subset."""
    loaded = [load_run(folder) for folder in runs]
    check_same_subset(loaded)
    atomic_write_bytes(html, render_page(loaded, naming).encode("utf-8"))


def load_run(folder: Path) -> Run:
    """The run in `folder`; ReportError unless its results.json has the fields the page shows."""
    path = folder / "results.json"
    try:
        with open_json(path) as f:  # nesting bounded: a hand-edited file cannot recurse deeply
            results = valid_json(load_root(f), warn_report(str(path)))
    except OSError as exc:
        raise ReportError(
            f"cannot read {path}: {exc.strerror or exc} (is {folder} a memgym eval folder?)"
        ) from exc
    except (ValueError, ijson.JSONError) as exc:  # bad UTF-8 and too deep nesting included
        raise ReportError(f"{path} is not valid JSON: {preview(str(exc))}") from exc
    problem = _schema_problem(results)
    if problem:
        raise ReportError(f"{path} is not a memgym results file: {problem}")
    return Run(folder, results)


def _schema_problem(results: Any) -> str | None:
    if not isinstance(results, dict):
        return "not a JSON object"
    if not isinstance(results.get("title"), str):
        return "no title"
    subset = results.get("subset")
    if not isinstance(subset, dict) or any(k not in subset for k in SUBSET_KEYS):
        return f"its subset lacks one of {', '.join(SUBSET_KEYS)}"
    if not isinstance(subset["categories"], list) or not all(
        isinstance(c, str) for c in subset["categories"]
    ):
        return "its subset categories are not a list of names"
    summary = results.get("summary")
    if not isinstance(summary, dict) or not all(
        isinstance(summary.get(k), dict) for k in ("overall", "by_category")
    ):
        return "no summary of overall and per-category scores"
    return _summary_problem(summary)


def _summary_problem(summary: dict[str, Any]) -> str | None:
    """The first field of a summary whose form the reports cannot read, or None."""
    if not _count(summary.get("n_questions")):
        return "field 'summary.n_questions' is not a count"
    rows = [("summary.overall", summary["overall"])] + [
        (f"summary.by_category.{k}", row) for k, row in summary["by_category"].items()
    ]
    for name, row in rows:
        if not isinstance(row, dict):
            return f"field {name!r} is not an object"
        if name != "summary.overall" and not _count(row.get("n")):
            return f"field '{name}.n' is not a count"
        for metric, value in row.items():
            if metric != "n" and not _finite(value):
                return f"field '{name}.{metric}' is not a number"
    intervals = summary.get("intervals")
    if intervals is not None:
        cells = [intervals.get("overall")] if isinstance(intervals, dict) else [None]
        by_category = intervals.get("by_category", {}) if isinstance(intervals, dict) else None
        cells += list(by_category.values()) if isinstance(by_category, dict) else [None]
        for cell in cells:
            if not isinstance(cell, dict) or not all(_pair(v) for v in cell.values()):
                return "field 'summary.intervals' does not hold a [low, high] pair per cell"
    return None


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _pair(value: Any) -> bool:
    return value is None or (
        isinstance(value, list) and len(value) == 2 and all(_finite(v) for v in value)
    )


def check_same_subset(runs: Sequence[Run], keys: Sequence[str] = (*SUBSET_KEYS, "errata")) -> None:
    """ReportError naming the first run that scores another question subset than the first
    (compared on `keys` of their subsets)."""
    if not runs:
        raise ReportError("no runs to report")
    first = runs[0]
    for other in runs[1:]:
        differences = [
            f"{key} {first.results['subset'].get(key)!r} vs {other.results['subset'].get(key)!r}"
            for key in keys
            if first.results["subset"].get(key) != other.results["subset"].get(key)
        ]
        if differences:
            raise ReportError(
                f"comparing runs over different subsets is meaningless: {first.name} and "
                f"{other.name} differ in {'; '.join(differences)} (--shared-questions compares "
                "them on the questions they share)"
            )


def render_page(runs: Sequence[Run], naming: Naming = "locomo") -> str:
    """The whole page; the runs must share one subset (see check_same_subset)."""
    columns = table_columns(runs, naming)
    metrics = metrics_of(runs)
    notes = [EM_NOTE] if any(em_note_applies(run.results) for run in runs) else []
    if any(_is_oracle(run) for run in runs):
        notes.append(ORACLE_NOTE)
    stamps = [run.results["subset"].get("errata") for run in runs]
    for run in runs if any(s != stamps[0] for s in stamps) else runs[:1]:
        errata = run.results.get("errata")
        if isinstance(errata, dict):
            lines = errata_lines(errata, naming)
            notes += (
                lines
                if run is runs[0] and stamps.count(stamps[0]) == len(runs)
                else [f"{run.folder}: {line}" for line in lines]
            )
    sections = [
        "<h1>memgym report</h1>",
        f'<p class="subset">{escape(subset_line(runs[0].results, naming))}</p>',
        *(f'<p class="note">{escape(note)}</p>' for note in notes),
        "<h2>Runs</h2>",
        '<p class="hint">Scores are percent of questions. Click a column header to sort '
        "(numbers high to low first); click again to reverse. A blank cell was not measured.</p>",
        _runs_table(runs, columns),
        *_interval_note(runs[0].results),
        *_pairs_section(runs, metrics, naming),
        "<h2>Scores per category</h2>",
        _legend(runs),
        '<div class="charts">',
        *(_chart(i, metric, runs, naming) for i, metric in enumerate(metrics)),
        "</div>",
    ]
    if _comparable_to_published(runs[0].results["subset"]):
        sections.append(_published_table())
    sections.append(
        f"<footer>Written by memgym {escape(__version__)} from "
        f"{escape(', '.join(str(run.folder) for run in runs))}.</footer>"
    )
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>memgym report: {len(runs)} run{'' if len(runs) == 1 else 's'}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n"
        f"<body>\n{body}\n<script>{_JS}</script>\n</body>\n</html>\n"
    )


def _interval_note(results: dict[str, Any]) -> list[str]:
    intervals = _lookup(results, ("summary", "intervals"))
    if not isinstance(intervals, dict):
        return []
    return [
        '<p class="hint" id="intervals">Brackets and whiskers: 95% bootstrap intervals, '
        f"resampling {escape(str(intervals.get('resampled')))} "
        f"({escape(str(intervals.get('resamples')))} resamples, seed "
        f"{escape(str(intervals.get('seed')))}).</p>"
    ]


def _pairs_section(runs: Sequence[Run], metrics: Sequence[str], naming: Naming) -> list[str]:
    """For every pair of runs, the paired difference per category and overall on the questions
    both scored: difference, 95% interval and p-value."""
    if len(runs) < 2 or not all(isinstance(run.results.get("questions"), list) for run in runs):
        return []
    header = "".join(f'<th scope="col">{escape(METRIC_LABELS.get(m, m))}</th>' for m in metrics)
    rows = []
    for (i, a), (j, b) in itertools.combinations(enumerate(runs), 2):
        test = paired_difference(a.results["questions"], b.results["questions"], metrics)
        pair = f"{_shown_title(a)} − {_shown_title(b)}"
        for key, cell in [*test["by_category"].items(), ("overall", test["overall"])]:
            name = "overall" if key == "overall" else key_label(key, naming)
            cells = "".join(_pair_cell(cell.get(m)) for m in metrics)
            rows.append(
                f'<tr data-pair="{i}-{j}" data-category="{escape(key)}">'
                f'<th scope="row">{escape(pair)}<span class="details">{escape(name)}, '
                f"n={cell['n']}</span></th>{cells}</tr>"
            )
    return [
        "<h2>Paired differences</h2>",
        '<p class="hint">Row run minus the second run on the questions both scored, in points: '
        "the difference, its 95% paired-bootstrap interval and the two-sided p-value.</p>",
        '<div class="scroll"><table class="pairs"><thead><tr><th scope="col">pair</th>'
        f"{header}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody></table></div>",
    ]


def _pair_cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "<td></td>"
    low, high = result["interval"]
    p = result["p_value"]
    return (
        f'<td data-diff="{result["difference"]!r}" data-p="{p!r}">'
        f'{100 * result["difference"]:+.2f}<small class="ci">[{100 * low:+.1f}, '
        f"{100 * high:+.1f}] p={'<0.001' if p < 0.001 else f'{p:.3f}'}</small></td>"
    ).replace("p=<", "p=&lt;")


def table_columns(runs: Sequence[Run], naming: Naming) -> list[Column]:
    """The numeric columns, most read first: every metric overall; the judge gap, cost,
    integrity, injection (the judge gap and injection only when some run measured them) and
    wall time; then every metric per category."""
    first = runs[0].results
    metrics = metrics_of(runs)
    n = f"n={first['subset']['n_questions']}"
    columns = [
        Column(
            f"overall.{m}",
            "Overall",
            METRIC_LABELS.get(m, m),
            _reader("summary", "overall", m),
            100,
            2,
            n,
            _interval_reader("overall", m),
        )
        for m in metrics
    ]
    columns += [
        c for c in _other_columns() if c.key not in ("judge_gap", "injection") or _measured(c, runs)
    ]
    return columns + [c for m in metrics for c in _category_columns(first, m, naming)]


def _category_columns(first: dict[str, Any], metric: str, naming: Naming) -> list[Column]:
    """One metric per category; headers give the category's question count."""
    columns = []
    for category in first["subset"]["categories"]:
        n = _number(_lookup(first, ("summary", "by_category", category, "n")))
        columns.append(
            Column(
                f"{category}.{metric}",
                f"{METRIC_LABELS.get(metric, metric)} per category",
                key_label(category, naming),
                _reader("summary", "by_category", category, metric),
                100,
                2,
                "" if n is None else f"n={n:.0f}",
                _interval_reader("by_category", category, metric),
            )
        )
    return columns


def _other_columns() -> list[Column]:
    return [
        Column(
            "judge_gap",
            "Judge gap",
            "lenient − strict (points)",
            _reader("summary", "judge_gap"),
            100,
            2,
        ),
        Column(
            "context_tokens",
            "Cost",
            "context tokens / question",
            _cost_reader("context_tokens_per_question"),
            1,
            0,
        ),
        Column(
            "memories",
            "Cost",
            "memories / bank",
            _cost_reader("bank_memories_per_conversation"),
            1,
            1,
        ),
        Column("llm_requests", "Cost", "LLM requests / question", _llm_requests, 1, 2),
        Column(
            "memory_support",
            "Integrity",
            "memory support %",
            _reader("integrity", "memory_support"),
            100,
            1,
        ),
        Column(
            "fact_coverage",
            "Integrity",
            "fact coverage %",
            _reader("integrity", "fact_coverage"),
            100,
            1,
        ),
        Column(
            "injection", "Injection", "success rate %", _reader("injection", "success_rate"), 100, 1
        ),
        Column(
            "wall_time",
            "Time",
            "wall time (s)",
            _reader("timing", "this_run_seconds"),
            1,
            1,
            "this run",  # a resumed run's earlier sessions are not counted
        ),
    ]


def metrics_of(runs: Sequence[Run]) -> list[str]:
    """Every metric any run scored, in METRIC_LABELS order, then unknown ones by name."""
    present = {m for run in runs for m in run.results["summary"]["overall"]}
    known = [m for m in METRIC_LABELS if m in present]
    return known + sorted(present - set(known))


def _lookup(data: Any, path: Sequence[str]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _number(value: Any) -> float | None:
    """A finite number as float, else None: NaN or a string would break sorting and charts."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _reader(*path: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda results: _number(_lookup(results, path))


def _interval_reader(*path: str) -> Callable[[dict[str, Any]], tuple[float, float] | None]:
    return lambda results: interval_of(results, path)


def interval_of(results: dict[str, Any], path: Sequence[str]) -> tuple[float, float] | None:
    """A score cell's recorded 95% interval (`summary.intervals` then `path`), if both bounds
    are finite numbers."""
    found = _lookup(results, ("summary", "intervals", *path))
    if not isinstance(found, list) or len(found) != 2:
        return None
    low, high = _number(found[0]), _number(found[1])
    return None if low is None or high is None else (low, high)


def _cost_reader(key: str) -> Callable[[dict[str, Any]], float | None]:
    # A submission ran no memory and no reader here: its recorded costs are zeros, not costs.
    return lambda results: (
        None if results.get("kind") == "submission" else _number(_lookup(results, ("cost", key)))
    )


def _llm_requests(results: dict[str, Any]) -> float | None:
    """LLM requests per question, every stage (manager, answerer, judge) together."""
    stages = _lookup(results, ("cost", "llm"))
    if results.get("kind") == "submission" or not isinstance(stages, dict):
        return None
    counts = [_number(_lookup(s, ("requests_per_question",))) for s in stages.values()]
    known = [c for c in counts if c is not None]
    return sum(known) if known else None


def _measured(column: Column, runs: Sequence[Run]) -> bool:
    return any(column.read(run.results) is not None for run in runs)


def _is_oracle(run: Run) -> bool:
    return run.results.get("oracle") is True


def _comparable_to_published(subset: dict[str, Any]) -> bool:
    """Memory-R1's figures are for LoCoMo test, 1,307 questions of categories 1-4."""
    return bool(
        subset["dataset"] == "locomo"
        and subset["split"] == "test"
        and subset["n_questions"] == 1307
        and subset["categories"] == ["1", "2", "3", "4"]
    )


def _runs_table(runs: Sequence[Run], columns: Sequence[Column]) -> str:
    groups = "".join(
        f'<th scope="colgroup" colspan="{len(list(members))}">{escape(group)}</th>'
        for group, members in itertools.groupby(columns, key=lambda c: c.group)
    )
    headers = "".join(
        _sort_header(i, c.key, c.label, "number", c.note) for i, c in enumerate(columns, 1)
    )
    rows = "\n".join(_run_row(i, run, columns) for i, run in enumerate(runs))
    return (
        '<div class="scroll"><table class="sortable runs">'
        "<caption>Runs over this subset, one row each</caption>\n<thead>\n"
        f"<tr>{_sort_header(0, 'run', 'Run', 'text', '', rowspan=2)}{groups}</tr>\n"
        f"<tr>{headers}</tr>\n</thead>\n<tbody>\n{rows}\n</tbody></table></div>"
    )


def _sort_header(index: int, key: str, label: str, kind: str, note: str, rowspan: int = 1) -> str:
    """A column header whose button sorts the table by column `index` (see _JS)."""
    span = f' rowspan="{rowspan}"' if rowspan > 1 else ""
    small = f"<small>{escape(note)}</small>" if note else ""
    return (
        f'<th scope="col"{span} data-col="{index}" data-key="{escape(key)}" data-type="{kind}">'
        f'<button type="button">{escape(label)}{small}</button></th>'
    )


def _run_row(index: int, run: Run, columns: Sequence[Column]) -> str:
    results = run.results
    details = [str(run.folder)]
    protocol = _lookup(results, ("protocol", "name"))
    if isinstance(protocol, str):
        details.append(f"protocol {protocol}")
    retriever = _lookup(results, ("retrieval", "retriever"))
    if isinstance(retriever, str):
        details.append(f"retriever {retriever}")
    head = (
        f'<th scope="row" data-v="{escape(_shown_title(run))}">{_title_html(index, run)}'
        f'<span class="details">{escape(" · ".join(details))}</span></th>'
    )
    cells = "".join(_cell(c.read(results), c, results) for c in columns)
    css = ' class="oracle"' if _is_oracle(run) else ""
    return f"<tr{css}>{head}{cells}</tr>"


def _shown_title(run: Run) -> str:
    """The title, less the "ORACLE: " prefix of an ORACLE run: its badge says it already."""
    title: str = run.results["title"]
    return title.removeprefix("ORACLE: ") if _is_oracle(run) else title


def _title_html(index: int, run: Run) -> str:
    badge = '<span class="badge">ORACLE</span> ' if _is_oracle(run) else ""
    return (
        f'{badge}<span class="title" style="border-color:{_colour(index)}">'
        f"{escape(_shown_title(run))}</span>"
    )


def _cell(value: float | None, column: Column, results: dict[str, Any]) -> str:
    if value is None:
        return "<td></td>"
    shown = f"{value * column.scale:.{column.digits}f}"
    interval = column.interval(results) if column.interval else None
    if interval is None:
        return f'<td data-v="{value!r}">{shown}</td>'
    low, high = (f"{bound * column.scale:.{max(column.digits - 1, 0)}f}" for bound in interval)
    return (
        f'<td data-v="{value!r}" data-low="{interval[0]!r}" data-high="{interval[1]!r}">'
        f'<span class="v">{shown}</span><small class="ci">[{low}, {high}]</small></td>'
    )


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _legend(runs: Sequence[Run]) -> str:
    items = "".join(
        f'<li><svg width="14" height="14" aria-hidden="true"><rect class="bar'
        f'{" oracle" if _is_oracle(run) else ""}" x="1" y="1" width="12" height="12" '
        f'fill="{_colour(i)}" stroke="{_colour(i)}"/></svg> {_title_html(i, run)} '
        f'<span class="details">{escape(str(run.folder))}</span></li>'
        for i, run in enumerate(runs)
    )
    return f'<ul class="legend" aria-label="Runs in the charts">{items}</ul>'


CHART_LEFT, CHART_TOP, PLOT_HEIGHT, CHART_BOTTOM = 36, 12, 160, 40


def _chart(index: int, metric: str, runs: Sequence[Run], naming: Naming) -> str:
    """An SVG bar chart of one metric: a group of bars per category and overall, a bar per run
    (0-100%); each bar's title gives its run, category and value for tooltips and readers."""
    categories: list[str] = runs[0].results["subset"]["categories"]
    groups = [(c, key_label(c, naming).split(" ", 1)) for c in categories]
    groups.append(("overall", ["overall"]))
    bar = max(4, min(16, 96 // len(runs)))
    longest = max(len(line) for _, lines in groups for line in lines)
    group_width = max(len(runs) * bar + 16, 7 * longest + 8)
    width = CHART_LEFT + group_width * len(groups) + 8
    height = CHART_TOP + PLOT_HEIGHT + CHART_BOTTOM
    label = METRIC_LABELS.get(metric, metric)
    parts = [
        f'<figure class="chart"><figcaption>{escape(label)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="chart{index}-title chart{index}-desc">'
        f'<title id="chart{index}-title">{escape(label)} per category, percent</title>'
        f'<desc id="chart{index}-desc">One group of bars per question category and overall; '
        f"one bar per run, in the legend's order.</desc>",
        _grid(width),
    ]
    for g, (key, lines) in enumerate(groups):
        x = CHART_LEFT + g * group_width
        x0 = x + (group_width - len(runs) * bar) / 2
        parts.append(_group_bars(x0, bar, (key, " ".join(lines)), metric, runs))
        for line_no, line in enumerate(lines):
            y = CHART_TOP + PLOT_HEIGHT + 16 + 13 * line_no
            parts.append(
                f'<text class="group" x="{x + group_width / 2:.1f}" y="{y}">{escape(line)}</text>'
            )
    parts.append("</svg></figure>")
    return "".join(parts)


def _grid(width: int) -> str:
    """Horizontal lines and labels at 0, 25, 50, 75 and 100%."""
    lines = []
    for tick in range(0, 101, 25):
        y = CHART_TOP + PLOT_HEIGHT * (1 - tick / 100)
        lines.append(
            f'<line class="grid" x1="{CHART_LEFT}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{CHART_LEFT - 4}" y="{y + 4:.1f}">{tick}</text>'
        )
    return "".join(lines)


def _group_bars(
    x0: float, bar: int, category: tuple[str, str], metric: str, runs: Sequence[Run]
) -> str:
    """One category's bars, a bar per run from x0; `category` is its key ("overall": the
    overall scores) and its name."""
    key, name = category
    path = ("overall", metric) if key == "overall" else ("by_category", key, metric)
    bars = []
    for r, run in enumerate(runs):
        value = _number(_lookup(run.results["summary"], path))
        if value is None:
            continue
        # A measured zero gets a sliver, so it does not look like a missing run.
        h = max(PLOT_HEIGHT * min(value, 1.0), 1.0)
        y = CHART_TOP + PLOT_HEIGHT - h
        oracle = " oracle" if _is_oracle(run) else ""
        interval = interval_of(run.results, path)
        shown = f"{100 * value:.2f}%"
        if interval is not None:
            shown += f" (95% interval {100 * interval[0]:.1f}-{100 * interval[1]:.1f})"
        bars.append(
            f'<rect class="bar{oracle}" x="{x0 + r * bar:.1f}" y="{y:.1f}" '
            f'width="{bar - 1}" height="{h:.1f}" fill="{_colour(r)}" stroke="{_colour(r)}">'
            f"<title>{escape(run.results['title'])}, {escape(name)}: {shown}</title>"
            "</rect>"
        )
        if interval is not None:
            x = x0 + r * bar + (bar - 1) / 2
            top, bottom = (
                CHART_TOP + PLOT_HEIGHT * (1 - min(max(v, 0.0), 1.0)) for v in interval[::-1]
            )
            bars.append(
                f'<line class="ci" x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>'
            )
    return "".join(bars)


def _published_table() -> str:
    rows = "\n".join(
        f'<tr><th scope="row" data-v="{escape(backbone)}">{escape(backbone)}</th>'
        f'<td data-v="{escape(method)}">{escape(method)}</td>'
        + "".join(f'<td data-v="{v!r}">{v:.2f}</td>' for v in (f1, b1, judge))
        + "</tr>"
        for backbone, methods in MEMORY_R1_LOCOMO_TEST.items()
        for method, (f1, b1, judge) in methods.items()
    )
    headers = (
        _sort_header(0, "backbone", "backbone", "text", "")
        + _sort_header(1, "method", "method", "text", "")
        + "".join(
            _sort_header(i, key, key, "number", "")
            for i, key in enumerate(("F1", "BLEU-1", "judge"), 2)
        )
    )
    return (
        "<h2>Published figures for context</h2>"
        f'<p class="hint">{escape(MEMORY_R1_SOURCE)}; overall scores in percent. Not reproduced '
        "by memgym, and never beside ORACLE runs.</p>"
        '<div class="scroll"><table class="sortable published">'
        f"<caption>{escape(MEMORY_R1_SOURCE)}</caption>\n<thead><tr>{headers}</tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody></table></div>"
    )


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
  margin: 24px; max-width: 1800px; }
h1 { font-size: 22px; margin: 0 0 8px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.subset { font-weight: 600; } .note, .hint { color: #4a4a4a; margin: 4px 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: #4a4a4a; padding: 4px 0; }
th, td { border: 1px solid #d4d4d4; padding: 3px 6px; }
td { text-align: right; white-space: nowrap; }
thead th { background: #f0f2f5; vertical-align: bottom; font-weight: 600; }
thead th button { font: inherit; background: none; border: 0; padding: 0; cursor: pointer;
  color: inherit; text-align: center; }
thead th button small { display: block; font-weight: 400; color: #666; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
tbody th { text-align: left; font-weight: 400; min-width: 20em; max-width: 26em; }
/* The run column stays in view while the wide table scrolls; sticky cells need a background. */
tbody th, thead th[data-key="run"] { position: sticky; left: 0; z-index: 1; }
tbody th { background: inherit; }
tbody tr { background: #fff; } tbody tr:nth-child(even) { background: #f7f7f7; }
.title { border-left: 4px solid; padding-left: 6px; }
.details { display: block; color: #666; font-size: 12px; padding-left: 10px; }
tr.oracle { background: #fff4e0 !important; font-style: italic; }
.badge { background: #9a3412; color: #fff; font: 700 11px/1 system-ui, sans-serif;
  padding: 2px 5px; border-radius: 3px; font-style: normal; }
.legend { list-style: none; padding: 0; margin: 8px 0; }
.legend li { display: inline-block; margin-right: 18px; }
.legend .details { display: inline; padding-left: 0; }
.legend .title { border: 0; padding-left: 0; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 28px; }
.chart { margin: 0; } .chart figcaption { font-weight: 600; }
.chart .grid { stroke: #e3e3e3; } .chart .tick { font-size: 10px; text-anchor: end; fill: #555; }
.chart .group { font-size: 11px; text-anchor: middle; fill: #333; }
.bar.oracle { fill-opacity: 0.25; stroke-dasharray: 3 2; }
.chart .ci { stroke: #1b1b1b; stroke-width: 1.5; }
td small.ci { display: block; color: #666; font-size: 11px; }
footer { margin-top: 28px; color: #777; font-size: 12px; }
"""

# Sorting: numeric columns go high to low on the first click, text columns A to Z; a second
# click on the same header reverses. Blank (unmeasured) cells stay last either way.
_JS = """
function compareCells(a, b, numeric, sign) {
  const blankA = a === undefined || a === "", blankB = b === undefined || b === "";
  if (blankA || blankB) return blankA - blankB;
  return sign * (numeric ? Number(a) - Number(b) : a.localeCompare(b));
}
for (const table of document.querySelectorAll("table.sortable")) {
  const body = table.tBodies[0];
  for (const th of table.querySelectorAll("thead th[data-col]")) {
    th.querySelector("button").addEventListener("click", () => {
      const numeric = th.dataset.type === "number";
      const first = numeric ? "descending" : "ascending";
      const flipped = first === "ascending" ? "descending" : "ascending";
      const order = th.getAttribute("aria-sort") === first ? flipped : first;
      for (const other of table.querySelectorAll("thead th[aria-sort]")) {
        other.removeAttribute("aria-sort");
      }
      th.setAttribute("aria-sort", order);
      const col = Number(th.dataset.col), sign = order === "ascending" ? 1 : -1;
      const rows = Array.from(body.rows);
      rows.sort((x, y) => compareCells(x.cells[col].dataset.v, y.cells[col].dataset.v,
                                       numeric, sign));
      for (const row of rows) body.appendChild(row);
    });
  }
}
"""
