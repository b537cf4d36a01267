"""`memgym report --html`: one self-contained page comparing runs over one question subset.

The browser test renders the page in headless Chromium (Debian packages chromium and
chromium-driver, installed by `make test`) and drives it over the WebDriver protocol.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memgym.cli import main
from memgym.leaderboard.html import ReportError, write_report

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1400, 1000)


def _eval(out: Path, manager: str, answerer: str, *extra: str, split: str = "all") -> Path:
    argv = ["eval", "--out", str(out), "--retriever", "bm25", "--split", split]
    argv += ["--manager", manager, "--answerer", answerer, "--no-progress", *extra]
    assert main(argv) == 0
    return out


def _results(run: Path) -> dict[str, Any]:
    results: dict[str, Any] = json.loads((run / "results.json").read_text())
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two runs and an ORACLE run on the bundled sample; the second has planted injections."""
    root = tmp_path_factory.mktemp("runs")
    return [
        _eval(root / "heuristic", "heuristic", "extractive"),
        _eval(root / "add_all", "add_all", "extractive", "--inject", "4"),
        _eval(root / "oracle", "add_all", "oracle_support"),
    ]


def _copy_run(run: Path, to: Path, **changes: Any) -> Path:
    """A copy of a run folder whose results.json has these top-level fields replaced."""
    results = _results(run)
    results.update(changes)
    to.mkdir()
    (to / "results.json").write_text(json.dumps(results))
    return to


def test_page_is_one_self_contained_file_with_table_charts_and_subset(
    runs: list[Path], tmp_path: Path
) -> None:
    page = tmp_path / "out" / "report.html"
    write_report(runs, page)
    assert [p.name for p in page.parent.iterdir()] == ["report.html"]  # no temp file left
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for external in ("src=", "href=", "<link", "@import", "url("):
        assert external not in text
    assert (
        "Subset: locomo split all, 31 questions, categories 1/2/3/4, adversarial excluded; "
        "category names: locomo (1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop)."
    ) in text
    assert text.count('<tr class="oracle">') == 1 and '<span class="badge">ORACLE</span>' in text
    assert "ORACLE runs read gold answers" in text
    # One chart per metric; a bar per run in each of the 4 categories and overall.
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 4
    assert text.count('<rect class="bar') == 4 * 3 * 5 + 3  # and the legend's swatches
    assert "<title>add_all manager + extractive answerer, 2 temporal: " in text
    assert "Memory-R1" not in text  # the sample is not the published subset
    for run in runs:
        summary = _results(run)["summary"]
        overall = summary["overall"]["locomo_f1"]
        low, high = summary["intervals"]["overall"]["locomo_f1"]
        assert (
            f'data-v="{overall!r}" data-low="{low!r}" data-high="{high!r}"><span class="v">'
            f'{100 * overall:.2f}</span><small class="ci">[{100 * low:.1f}, {100 * high:.1f}]'
            "</small></td>"
        ) in text
    # Each bar carries its interval as a whisker and in its tooltip.
    assert text.count('<line class="ci"') == 4 * 3 * 5
    assert "(95% interval " in text
    assert "resampling conversations, then questions within them (2000 resamples, seed 0)" in text


def test_judge_columns_and_gap_appear_when_a_judge_ran(runs: list[Path], tmp_path: Path) -> None:
    from fake_llm_server import ServerState, fake_llm_server

    def reply(body: dict[str, Any]) -> str:
        if "**Answer:**" in body["messages"][0]["content"]:
            return "[0]\n**Answer:** Buddy"
        return '{"label": "CORRECT"}'

    with fake_llm_server(ServerState(reply=reply)) as url:
        judged = _eval(
            tmp_path / "judged",
            *("heuristic", "llm", "--base-url", url, "--model", "scripted"),
            *("--judge", "--judge-self", "--judge-criteria", "lenient", "strict"),
        )
    page = tmp_path / "report.html"
    write_report([runs[0], judged], page)
    text = page.read_text(encoding="utf-8")
    summary = _results(judged)["summary"]
    for key in ("overall.judge", "overall.judge_strict", "judge_gap", "4.judge"):
        assert f'data-key="{key}"' in text
    assert f'data-v="{summary["judge_gap"]!r}">' in text
    assert "<figcaption>Judge (strict)</figcaption>" in text
    # The run without a judge has blank judge cells, not zeros.
    assert "<td></td>" in text


def test_runs_over_different_subsets_are_refused(runs: list[Path], tmp_path: Path) -> None:
    train = _eval(tmp_path / "train", "add_all", "extractive", split="train")
    page = tmp_path / "report.html"
    with pytest.raises(ReportError, match="comparing runs over different subsets") as error:
        write_report([runs[0], train], page)
    message = str(error.value)
    assert str(runs[0]) in message and str(train) in message
    assert "split 'all' vs 'train'" in message and "n_questions 31 vs 9" in message
    assert isinstance(error.value, ValueError)
    assert not page.exists()


def test_unreadable_run_folders_are_refused(runs: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=f"cannot read {tmp_path}/results.json"):
        write_report([tmp_path], tmp_path / "report.html")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.json").write_text("{not json")
    with pytest.raises(ReportError, match="is not valid JSON"):
        write_report([runs[0], broken], tmp_path / "report.html")
    _copy_run(runs[0], tmp_path / "no_subset", subset={"dataset": "locomo"})
    with pytest.raises(ReportError, match="not a memgym results file: its subset lacks"):
        write_report([tmp_path / "no_subset"], tmp_path / "report.html")


def test_strings_from_results_are_escaped(runs: list[Path], tmp_path: Path) -> None:
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    results = _results(runs[0])
    retrieval = {**results["retrieval"], "retriever": "<b>bm25</b>"}
    run = _copy_run(runs[0], tmp_path / "hostile", title=hostile, retrieval=retrieval)
    page = tmp_path / "report.html"
    write_report([runs[0], run], page)
    text = page.read_text(encoding="utf-8")
    assert text.count("<script>") == 1  # the page's own sorting script
    assert "<img" not in text and "<b>bm25" not in text
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;"
        in text
    )
    assert "retriever &lt;b&gt;bm25&lt;/b&gt;" in text


def test_published_rows_only_on_locomo_test_and_in_their_own_table(
    runs: list[Path], tmp_path: Path
) -> None:
    published_subset = {
        **_results(runs[0])["subset"],
        "split": "test",
        "n_questions": 1307,
        "categories": ["1", "2", "3", "4"],
    }
    copies = [
        _copy_run(run, tmp_path / run.name, subset=published_subset) for run in (runs[0], runs[2])
    ]
    page = tmp_path / "report.html"
    write_report(copies, page)
    text = page.read_text(encoding="utf-8")
    runs_table, published = text.split("<h2>Published figures for context</h2>")
    assert "Memory-R1-GRPO" in published and '<td data-v="45.02">45.02</td>' in published
    assert "Memory-R1" not in runs_table
    assert "ORACLE" not in published.split("</table>")[0].split("<tbody>")[1]
    assert runs_table.count('<tr class="oracle">') == 1


# --- headless Chromium over the WebDriver protocol (plain HTTP, no client library) ---


class Browser:
    """A headless Chromium session driven through chromedriver's W3C WebDriver endpoint."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        options = {
            "args": [
                "--headless",
                "--no-sandbox",  # tests run as root in containers
                "--disable-gpu",
                "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
                f"--window-size={WINDOW[0]},{WINDOW[1]}",
            ]
        }
        capabilities = {"alwaysMatch": {"goog:chromeOptions": options}}
        self.session = self.call("POST", "/session", {"capabilities": capabilities})["sessionId"]

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path, data, {"Content-Type": "application/json"}, method=method
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["value"]

    def session_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.call(method, f"/session/{self.session}{path}", body)

    def script(self, source: str) -> Any:
        return self.session_call("POST", "/execute/sync", {"script": source, "args": []})

    def click(self, css: str) -> None:
        found = self.session_call("POST", "/element", {"using": "css selector", "value": css})
        self.session_call("POST", f"/element/{next(iter(found.values()))}/click", {})


@pytest.fixture
def browser() -> Iterator[Browser]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"headless Chromium is needed and {', '.join(missing)} is missing: `make test` "
            "installs it (apt-get install -y chromium chromium-driver)"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = subprocess.Popen(
        [str(CHROMEDRIVER), f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/status")
        session = Browser(port)
        try:
            yield session
        finally:
            session.session_call("DELETE", "")
    finally:
        driver.terminate()
        driver.wait(timeout=10)


def _wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.loads(response.read())["value"]["ready"]:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


ROWS_JS = """
const table = document.querySelector("table.runs");
const keys = [];
for (const th of table.querySelectorAll("thead th[data-col]")) {
  keys[Number(th.dataset.col)] = th.dataset.key;
}
return Array.from(table.tBodies[0].rows, row => ({
  oracle: row.classList.contains("oracle"),
  badge: row.querySelector(".badge") ? row.querySelector(".badge").innerText : null,
  title: row.querySelector(".title").innerText,
  cells: Object.fromEntries(Array.from(row.cells,
    (cell, i) => [keys[i], (cell.querySelector(".v") || cell).innerText.trim()])),
  intervals: Object.fromEntries(Array.from(row.cells, (cell, i) => {
    const ci = cell.querySelector(".ci");
    return [keys[i], ci && ci.offsetHeight > 0 ? ci.innerText.trim() : null];
  })),
}));
"""


def test_page_renders_in_a_browser_shows_results_and_sorts_on_click(
    runs: list[Path], tmp_path: Path, browser: Browser
) -> None:
    page = tmp_path / "report.html"
    write_report(runs, page)
    browser.session_call("POST", "/url", {"url": page.as_uri()})

    shot = tmp_path / "report.png"
    shot.write_bytes(base64.b64decode(browser.session_call("GET", "/screenshot")))
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert int.from_bytes(png[16:20], "big") == WINDOW[0]  # IHDR width
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05  # not a blank page

    # Nothing was fetched: the page is self-contained.
    assert browser.script('return performance.getEntriesByType("resource").length') == 0

    rows = browser.script(ROWS_JS)
    expected = [_results(run) for run in runs]
    assert len(rows) == len(expected)
    for row, results in zip(rows, expected, strict=True):
        assert row["oracle"] is results["oracle"]
        assert row["badge"] == ("ORACLE" if results["oracle"] else None)
        assert row["title"] == results["title"].removeprefix("ORACLE: ")
        summary = results["summary"]
        assert row["cells"]["overall.locomo_f1"] == f"{100 * summary['overall']['locomo_f1']:.2f}"
        assert row["cells"]["2.mem0_f1"] == f"{100 * summary['by_category']['2']['mem0_f1']:.2f}"
        # Every score shows its 95% interval, visibly, under it.
        low, high = summary["intervals"]["overall"]["locomo_f1"]
        assert row["intervals"]["overall.locomo_f1"] == f"[{100 * low:.1f}, {100 * high:.1f}]"
        low, high = summary["intervals"]["by_category"]["2"]["mem0_f1"]
        assert row["intervals"]["2.mem0_f1"] == f"[{100 * low:.1f}, {100 * high:.1f}]"
        assert row["intervals"]["context_tokens"] is None  # costs have no interval
        tokens = results["cost"]["context_tokens_per_question"]
        assert row["cells"]["context_tokens"] == f"{tokens:.0f}"
        assert row["cells"]["fact_coverage"] == f"{100 * results['integrity']['fact_coverage']:.1f}"
        injection = results.get("injection")
        assert row["cells"]["injection"] == (
            f"{100 * injection['success_rate']:.1f}" if injection else ""
        )

    def f1(results: dict[str, Any]) -> float:
        return float(results["summary"]["overall"]["locomo_f1"])

    # The whiskers are drawn: as many as bars, each spanning its interval's height.
    whiskers = browser.script(
        "return Array.from(document.querySelectorAll('svg line.ci'), "
        "l => l.getBoundingClientRect().height)"
    )
    assert len(whiskers) == 4 * 3 * 5 and max(whiskers) > 10
    # The paired differences: three pairs, each per category and overall.
    pairs = browser.script(
        "return Array.from(document.querySelectorAll('table.pairs tbody tr'), r => "
        "[r.dataset.pair, r.dataset.category, r.cells[2].innerText])"
    )
    assert [(p, c) for p, c, _ in pairs] == [
        (pair, c) for pair in ("0-1", "0-2", "1-2") for c in ("1", "2", "3", "4", "overall")
    ]
    difference = 100 * (f1(expected[0]) - f1(expected[1]))
    assert pairs[4][2].startswith(f"{difference:+.2f}\n[") and "p=" in pairs[4][2]

    def titles() -> list[str]:
        return [row["title"] for row in browser.script(ROWS_JS)]

    by_f1 = [r["title"].removeprefix("ORACLE: ") for r in sorted(expected, key=f1, reverse=True)]
    assert len({f1(r) for r in expected}) == len(expected)  # a strict order to check
    header = 'th[data-key="overall.locomo_f1"]'
    browser.click(f"{header} button")
    assert titles() == by_f1
    assert browser.script(f"return document.querySelector('{header}').ariaSort") == "descending"
    browser.click(f"{header} button")
    assert titles() == by_f1[::-1]
    assert browser.script(f"return document.querySelector('{header}').ariaSort") == "ascending"
    browser.click('th[data-key="run"] button')
    assert titles() == sorted(by_f1)
