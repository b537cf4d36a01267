"""Loading benchmark: time and peak RSS to validate and to load a large file of each dataset.

For LoCoMo (locomo10 list layout), MSC-Self-Instruct (JSON lines) and LongMemEval, a file of
about --size-mb megabytes (200 by default, 20 with --quick) is generated in a temporary folder:
LoCoMo and MSC by repeating the bundled samples' records under new ids (their quirks
included), LongMemEval with `memgym.data.synthetic.write_longmemeval`. Each measurement runs in
a fresh process, so its peak RSS (VmHWM) is its own:

- `import`: the interpreter with `memgym.data` imported and nothing read (the floor);
- `json.load`: the baseline, reading the whole file into Python objects at once;
- `validate`: `memgym.data.validate` (what `memgym data validate` runs: stream, keep nothing);
- `stream`: `memgym.data.iter_conversations`, one typed conversation alive at a time;
- `load`: `memgym.data.load_dataset`, every typed conversation kept.

The target is peak RSS under 4x the file size for the streaming paths. Every figure is printed
beside the file size, with the growth over the `import` floor; `items` counts records read
(json.load), problems found (validate) or conversations produced (stream, load).

    python benchmarks/bench_loading.py [--quick] [--size-mb N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine

from memgym.data import sample_path
from memgym.data.synthetic import generate_longmemeval

MB = 1024 * 1024
STEPS = ("import", "json.load", "validate", "stream", "load")

# Run in a child process: one step on one file, then its wall time and VmHWM as JSON.
_MEASURE = """
import json, sys, time
step, name, path = sys.argv[1:4]
import memgym.data
from pathlib import Path
start = time.perf_counter()
items = 0
if step == "json.load":
    if name == "msc":
        with open(path, "rb") as f:
            held = [json.loads(line) for line in f]
    else:
        with open(path, "rb") as f:
            held = json.load(f)
    items = len(held)
elif step == "validate":
    items = len(memgym.data.validate(path, name))
elif step == "stream":
    for _ in memgym.data.iter_conversations(name, Path(path)):
        items += 1
elif step == "load":
    held = memgym.data.load_dataset(name, path)
    items = len(held.conversations)
seconds = time.perf_counter() - start
with open("/proc/self/status") as status:
    kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "peak_rss_mb": kb / 1024, "items": items}))
"""


def _records_until(size: int, make: Callable[[int], bytes]) -> Iterator[bytes]:
    """Encoded records make(0), make(1), ... until about `size` bytes were produced."""
    written, index = 0, 0
    while written < size:
        record = make(index)
        written += len(record)
        index += 1
        yield record


def write_locomo(path: Path, size: int) -> None:
    """A locomo10-style list of copies of the bundled sample's records, ids made unique."""
    samples = json.loads(sample_path("locomo").read_text())

    def make(index: int) -> bytes:
        record = dict(samples[index % len(samples)], sample_id=f"gen-{index}")
        return json.dumps(record).encode()

    with path.open("wb") as f:
        f.write(b"[")
        for index, record in enumerate(_records_until(size, make)):
            f.write(b",\n" if index else b"\n")
            f.write(record)
        f.write(b"\n]\n")


def write_msc(path: Path, size: int) -> None:
    """MSC-Self-Instruct JSON lines repeating the bundled sample's lines (ids are line numbers)."""
    lines = [line for line in sample_path("msc").read_bytes().splitlines() if line.strip()]
    with path.open("wb") as f:
        for record in _records_until(size, lambda index: lines[index % len(lines)] + b"\n"):
            f.write(record)


def write_longmemeval(path: Path, size: int) -> None:
    """LongMemEval-S-shaped synthetic instances (50 sessions of 10 turns) up to `size` bytes."""
    one = len(json.dumps(next(generate_longmemeval(1, 50, 10)), separators=(",", ":")))
    instances = max(1, round(size / one))
    records = generate_longmemeval(instances, 50, 10)
    with path.open("wb") as f:
        f.write(b"[")
        for index, record in enumerate(records):
            f.write(b",\n" if index else b"\n")
            f.write(json.dumps(record, separators=(",", ":")).encode())
        f.write(b"\n]\n")


WRITERS: dict[str, tuple[str, Callable[[Path, int], None]]] = {
    "locomo": ("locomo10_generated.json", write_locomo),
    "msc": ("msc_generated.jsonl", write_msc),
    "longmemeval": ("longmemeval_generated.json", write_longmemeval),
}


def measure(step: str, name: str, path: Path) -> dict[str, Any]:
    """Run one step on one file in a fresh process; its wall seconds, peak RSS and item count."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, step, name, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="20 MB files instead of 200 MB")
    parser.add_argument("--size-mb", type=float, default=None)
    args = parser.parse_args()
    size_mb = args.size_mb or (20.0 if args.quick else 200.0)
    report: dict[str, Any] = {"machine": machine(), "target_size_mb": size_mb, "datasets": {}}
    print(
        f"{'dataset':12s} {'file MB':>8s} {'step':>10s} {'seconds':>8s} "
        f"{'peak MB':>8s} {'peak/file':>9s} {'growth/file':>11s} {'items':>8s}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for name, (filename, write) in WRITERS.items():
            path = Path(folder) / filename
            write(path, int(size_mb * MB))
            file_mb = path.stat().st_size / MB
            row: dict[str, Any] = {"file_mb": file_mb}
            for step in STEPS:
                result = measure(step, name, path)
                floor = row["import"]["peak_rss_mb"] if step != "import" else result["peak_rss_mb"]
                result["peak_over_file"] = result["peak_rss_mb"] / file_mb
                result["growth_over_file"] = (result["peak_rss_mb"] - floor) / file_mb
                row[step] = result
                print(
                    f"{name:12s} {file_mb:8.1f} {step:>10s} {result['seconds']:8.1f} "
                    f"{result['peak_rss_mb']:8.0f} {result['peak_over_file']:9.2f} "
                    f"{result['growth_over_file']:11.2f} {result['items']:8d}"
                )
            report["datasets"][name] = row
            path.unlink()
    for step in ("stream", "load"):
        report[f"worst_{step}_peak_over_file"] = max(
            row[step]["peak_over_file"] for row in report["datasets"].values()
        )
    emit(report)


if __name__ == "__main__":
    main()
