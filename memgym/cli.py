"""The `memgym` command line: `memgym data {stats,validate,fetch}`, `score` and `eval`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from memgym.data.categories import category_label
from memgym.data.fetch import SOURCES, FetchError, fetch
from memgym.data.loading import DATASETS, load_dataset, report_warnings, validate
from memgym.data.schema import Dataset
from memgym.data.splits import SPLITS
from memgym.data.stats import dataset_stats
from memgym.engine import MemoryConfig
from memgym.envs.episodes import DEFAULT_WINDOW, plan_episodes
from memgym.errors import DatasetError
from memgym.facts import default_fact_source
from memgym.io import atomic_write_json
from memgym.leaderboard import (
    ConfigMismatchError,
    EvalConfig,
    LLMSettings,
    markdown_table,
    run_eval,
    score_submission,
)
from memgym.metrics.protocols import PROTOCOLS, get_protocol
from memgym.metrics.scoring import read_predictions, score_predictions


def _add_dataset_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dataset", choices=[*DATASETS, "sample"], default="locomo")
    p.add_argument(
        "--data", type=Path, default=None, help="dataset file or folder (default: bundled sample)"
    )
    p.add_argument("--split", choices=SPLITS, default="all")
    p.add_argument("--include-adversarial", action="store_true", help="keep LoCoMo category 5")
    p.add_argument("--strict", action="store_true", help="treat every data warning as an error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="memgym", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="inspect, validate and download datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    stats = data_commands.add_parser("stats", help="counts per split and category")
    _add_dataset_args(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument(
        "--episodes",
        choices=["conversation", "window"],
        default=None,
        help="also count env episodes (window: Memory-R1's training tuples) and skipped questions",
    )
    stats.add_argument("--window", type=int, default=DEFAULT_WINDOW, help="turns before t")
    stats.add_argument("--fact-source", choices=["dataset", "turns"], default=None)
    check = data_commands.add_parser("validate", help="list every problem in a dataset file")
    check.add_argument("path", type=Path)
    check.add_argument(
        "--dataset", choices=DATASETS, default=None, help="expected dataset (default: detect)"
    )
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
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
    evaluate = commands.add_parser("eval", help="run the leaderboard evaluation")
    add_eval_args(evaluate)
    return parser


def add_eval_args(p: argparse.ArgumentParser) -> None:
    """Options of `memgym eval` (also used by benchmarks/leaderboard.py)."""
    _add_dataset_args(p)
    p.add_argument("--out", type=Path, required=True, help="results folder")
    p.add_argument(
        "--manager", default="heuristic", help="add_all, noop, heuristic, llm or module:callable"
    )
    p.add_argument(
        "--answerer",
        default="extractive",
        help="extractive, support (oracle), llm or module:callable",
    )
    p.add_argument("--fact-source", choices=["dataset", "turns"], default=None)
    p.add_argument("--retriever", choices=["bm25", "dense", "hybrid"], default="hybrid")
    p.add_argument("--embedder", default="minilm", help="minilm (offline model) or hashing[-DIM]")
    p.add_argument("--observation-k", type=int, default=10)
    p.add_argument(
        "--answer-k",
        type=int,
        default=None,
        help="memories per speaker for the reader (default: as many as fit its 4,096-token "
        "prompt; 30 is Memory-R1's 60-memory setup)",
    )
    p.add_argument("--namespace-by", choices=["speaker", "none"], default="speaker")
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default="memory_r1")
    p.add_argument("--naming", choices=["locomo", "mem0"], default="locomo")
    p.add_argument("--workers", type=int, default=1, help="conversations evaluated in parallel")
    p.add_argument("--restart", action="store_true", help="discard results of another config")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument(
        "--predictions", type=Path, default=None, help="score this JSONL instead of running agents"
    )
    p.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint for llm agents")
    p.add_argument("--model", default=None)
    p.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="environment variable with the key"
    )
    p.add_argument("--judge", action="store_true", help="also score with the protocol's LLM judge")


def eval_config(args: argparse.Namespace) -> EvalConfig:
    """The run's configuration from parsed `memgym eval` options."""
    llm = None
    if args.base_url or args.model:
        if not (args.base_url and args.model):
            raise SystemExit("error: --base-url and --model go together")
        llm = LLMSettings(args.base_url, args.model, api_key_env=args.api_key_env)
    return EvalConfig(
        dataset=args.dataset,
        data=None if args.data is None else str(args.data),
        split=args.split,
        include_adversarial=args.include_adversarial,
        fact_source=args.fact_source,
        manager=args.manager,
        answerer=args.answerer,
        memory=MemoryConfig(
            retriever=args.retriever,
            embedder=args.embedder,
            observation_k=args.observation_k,
            answer_k=args.answer_k,
            namespace_by=args.namespace_by,
        ),
        protocol=args.protocol,
        llm=llm,
        judge=args.judge,
    )


def run_eval_command(args: argparse.Namespace) -> int:
    """`memgym eval`: run (or resume) an evaluation, or score a submission; print the table."""
    config = eval_config(args)
    start = time.perf_counter()
    if args.predictions is not None:
        results = score_submission(config, args.predictions, args.out, args.naming)
    else:
        results = run_eval(
            config,
            args.out,
            workers=args.workers,
            restart=args.restart,
            progress=not args.no_progress,
            naming=args.naming,
        )
    print(markdown_table(results, args.naming), end="")
    print(f"\nwall time {time.perf_counter() - start:.1f} s; results in {args.out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "score":
            return _score(args)
        if args.command == "eval":
            return run_eval_command(args)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except ConfigMismatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    return 1


def _data(args: argparse.Namespace) -> int:
    if args.data_command == "stats":
        dataset = _load(args)
        stats = dataset_stats(dataset)
        if args.episodes is not None:
            source = args.fact_source or default_fact_source(dataset.name)
            plan = plan_episodes(dataset.conversations, source, args.episodes, args.window)
            stats["episodes"] = {"kind": args.episodes, "window": args.window, **plan.describe()}
        if args.json:
            print(json.dumps(stats))
        else:
            _print_stats(stats)
        return 0
    if args.data_command == "validate":
        problems = validate(args.path, args.dataset)
        for problem in problems:
            print(f"{problem.severity}: {problem}")
        errors = sum(p.severity == "error" for p in problems)
        warnings = len(problems) - errors
        print(f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {args.path}")
        return 1 if errors or (args.strict and warnings) else 0
    path = fetch(args.name, url=args.url, sha256=args.sha256, dest_dir=args.dest)
    print(path)
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _load(args: argparse.Namespace) -> Dataset:
    """The dataset the options name; its warnings are summarised once on stderr."""
    dataset = load_dataset(
        args.dataset,
        args.data,
        args.split,
        include_adversarial=args.include_adversarial,
        strict=args.strict,
    )
    report_warnings(dataset)
    return dataset


def _score(args: argparse.Namespace) -> int:
    dataset = _load(args)
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
    episodes = stats.get("episodes")
    if isinstance(episodes, dict):
        print(
            f"  {episodes['kind']} episodes {episodes['episodes']} (window {episodes['window']}): "
            f"{episodes['questions_in_episodes']} questions in episodes, "
            f"{episodes['questions_skipped']} skipped, "
            f"{episodes['evidence_outside_bank']} with evidence outside their bank"
        )
        for skipped in episodes["skipped"]:
            print(f"    skipped {skipped['question_id']}: {skipped['reason']}")


if __name__ == "__main__":
    raise SystemExit(main())
