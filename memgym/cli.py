"""The `memgym` command line: `memgym data {stats,validate,fetch}` and `memgym score`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from memgym.data.categories import category_label
from memgym.data.fetch import SOURCES, FetchError, fetch
from memgym.data.loading import DATASETS, load_dataset, validate
from memgym.data.splits import SPLITS
from memgym.data.stats import dataset_stats
from memgym.errors import DatasetError
from memgym.io import atomic_write_json
from memgym.metrics.protocols import PROTOCOLS, get_protocol
from memgym.metrics.scoring import read_predictions, score_predictions


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=[*DATASETS, "sample"], default="locomo")
    p.add_argument(
        "--data", type=Path, default=None, help="dataset file or folder (default: bundled sample)"
    )
    p.add_argument("--split", choices=SPLITS, default="all")
    p.add_argument("--include-adversarial", action="store_true", help="keep LoCoMo category 5")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memgym", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="inspect, validate and download datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    stats = data_commands.add_parser("stats", help="counts per split and category")
    _add_dataset_args(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    check = data_commands.add_parser("validate", help="list every problem in a dataset file")
    check.add_argument("path", type=Path)
    check.add_argument(
        "--dataset", choices=DATASETS, default=None, help="expected dataset (default: detect)"
    )
    get = data_commands.add_parser("fetch", help="download an official dataset file")
    get.add_argument("name", choices=sorted(SOURCES))
    get.add_argument(
        "--dest", type=Path, default=None, help="folder (default: $MEMGYM_DATA or ~/.cache/memgym)"
    )
    get.add_argument("--url", default=None, help="mirror address instead of the official one")
    get.add_argument("--sha256", default=None, help="expected checksum")

    score = commands.add_parser("score", help="score a predictions JSONL against a dataset split")
    _add_dataset_args(score)
    score.add_argument(
        "--predictions", type=Path, required=True, help="JSONL: question_id, prediction"
    )
    score.add_argument("--protocol", choices=sorted(PROTOCOLS), default="locomo")
    score.add_argument("--naming", choices=["locomo", "mem0"], default="locomo")
    score.add_argument("--out", type=Path, default=None, help="write the full report (JSON)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "score":
            return _score(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 1


def _data(args: argparse.Namespace) -> int:
    if args.data_command == "stats":
        dataset = load_dataset(
            args.dataset, args.data, args.split, include_adversarial=args.include_adversarial
        )
        stats = dataset_stats(dataset)
        if args.json:
            print(json.dumps(stats))
        else:
            _print_stats(stats)
        return 0
    if args.data_command == "validate":
        problems = validate(args.path, args.dataset)
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {args.path}")
        return 1 if problems else 0
    path = fetch(args.name, url=args.url, sha256=args.sha256, dest_dir=args.dest)
    print(path)
    return 0


def _score(args: argparse.Namespace) -> int:
    dataset = load_dataset(
        args.dataset, args.data, args.split, include_adversarial=args.include_adversarial
    )
    report = score_predictions(
        dataset, read_predictions(args.predictions), get_protocol(args.protocol)
    )
    if args.out is not None:
        atomic_write_json(args.out, report)
    summary = report["summary"]
    metrics = list(summary["overall"])
    print(f"protocol {args.protocol} v{report['protocol']['version']}, naming {args.naming}")
    print(f"{'category':28s} {'n':>5s} " + " ".join(f"{m:>12s}" for m in metrics))
    for key, row in summary["by_category"].items():
        label = category_label(int(key) if key.isdigit() else key, args.naming)
        name = f"{key} ({label})" if label != key else key
        print(f"{name:28s} {row['n']:5d} " + " ".join(f"{100 * row[m]:12.2f}" for m in metrics))
    overall = summary["overall"]
    print(
        f"{'overall':28s} {summary['n_questions']:5d} "
        + " ".join(f"{100 * overall[m]:12.2f}" for m in metrics)
    )
    if summary["n_missing"]:
        print(f"warning: {summary['n_missing']} questions had no prediction (scored as empty)")
    return 0


def _print_stats(stats: dict[str, object]) -> None:
    print(
        f"{stats['dataset']} ({stats['variant']}), split {stats['split']}, "
        f"sha256 {stats['content_hash']}"
    )
    for key in ("conversations", "sessions", "turns", "facts", "questions", "abstention_questions"):
        print(f"  {key:22s} {stats[key]}")
    by_category = stats["questions_by_category"]
    names = stats["category_names"]
    assert isinstance(by_category, dict) and isinstance(names, dict)
    for category, count in by_category.items():
        label = category if names[category] == category else f"{category} ({names[category]})"
        print(f"  category {label:<28s} {count}")


if __name__ == "__main__":
    raise SystemExit(main())
