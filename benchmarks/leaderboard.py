"""Leaderboard run through the same code as `memgym eval`, with timing and a JSON summary.

    python benchmarks/leaderboard.py --quick                       # bundled sample, offline
    python benchmarks/leaderboard.py --data locomo10.json --split test --manager heuristic \\
        --answerer extractive --out runs/locomo-test

Every `memgym eval` option is accepted. `--quick` evaluates the bundled sample (under a
minute). The last line is a JSON object with the overall scores and the wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, machine

from memgym.cli import add_eval_args, eval_config
from memgym.leaderboard import markdown_table, run_eval


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_eval_args(parser)
    parser.add_argument(
        "--quick", action="store_true", help="the bundled sample (the default data)"
    )
    parser.set_defaults(out=Path("runs/leaderboard"))
    for action in parser._actions:
        if action.dest == "out":
            action.required = False
    args = parser.parse_args()
    if args.quick:
        args.data = None
    config = eval_config(args)
    start = time.perf_counter()
    results = run_eval(
        config,
        args.out,
        workers=args.workers,
        restart=True,
        progress=not args.no_progress,
        naming=args.naming,
    )
    wall = time.perf_counter() - start
    print(markdown_table(results, args.naming), end="")
    emit(
        {
            "machine": machine(),
            "dataset": results["dataset"],
            "manager": config.manager,
            "answerer": config.answerer,
            "n_questions": results["summary"]["n_questions"],
            "overall": results["summary"]["overall"],
            "wall_seconds": wall,
        }
    )


if __name__ == "__main__":
    main()
