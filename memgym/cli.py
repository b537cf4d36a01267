"""The `memgym` command line: `memgym data {stats,validate,fetch}`, `score`, `eval`, `report`.

Exit codes: 0 success; 1 nothing to score (`score` matched no id) or validation found errors;
2 bad input or configuration (one line saying what is wrong and what is valid); 3 download
failed; 4 the output folder is in use, holds another configuration, or would have a finished
run's file replaced; 5 an output file could not be written; 130 interrupted (Ctrl-C, SIGINT);
143 terminated (SIGTERM). Interrupted, `eval` says in one line how many conversations are saved
(a rerun resumes from them) and releases the output folder's lock.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from memgym import __version__
from memgym.agents.registry import ANSWERERS, MANAGERS
from memgym.config import MemoryConfig
from memgym.data.errata import ERRATA_MODES, Errata, apply_errata, load_errata
from memgym.data.fetch import SOURCES, FetchError, fetch
from memgym.data.loading import DATASETS, load_dataset, report_warnings, validate
from memgym.data.schema import Dataset
from memgym.data.splits import SPLITS
from memgym.data.stats import dataset_stats
from memgym.envs.episodes import DEFAULT_WINDOW, plan_episodes
from memgym.errors import DatasetError
from memgym.facts import default_fact_source
from memgym.io import atomic_write_json
from memgym.leaderboard import (
    ConfigMismatchError,
    EvalConfig,
    JudgeSettings,
    LLMSettings,
    RunConfigError,
    RunFolderError,
    markdown_table,
    run_eval,
    score_submission,
)
from memgym.leaderboard.compare import run_report
from memgym.leaderboard.html import ReportError
from memgym.leaderboard.outdir import refuse_run_file
from memgym.leaderboard.report import METRIC_LABELS
from memgym.leaderboard.results import errata_section, subset_of
from memgym.memory.capacity import parse_capacity
from memgym.metrics.judge import Judge
from memgym.metrics.prompt_files import PARSE_RULES, TemplateJudge, load_template
from memgym.metrics.protocols import PROTOCOLS, evaluation_protocol, judges_for
from memgym.metrics.scoring import read_predictions, score_predictions

DEFAULT_PROTOCOL = "memory_r1"


class UsageError(ValueError):
    """Options that do not go together."""


def _at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= `low` (argparse exits 2 naming the option otherwise)."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be {low} or more, got {value}")
        return value

    parse.__name__ = "integer"
    return parse


def _seconds(text: str) -> float:
    value = float(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default (argparse's own formatter skips options
    without help text and repeats defaults the text already gives)."""

    def _format_action(self, action: argparse.Action) -> str:
        if not action.help and self._get_help_string(action):
            action = copy.copy(action)  # argparse prints no help line for an empty help
            action.help = self._get_help_string(action)
        return super()._format_action(action)

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or not action.option_strings
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
        ):
            return text
        shown = " ".join(map(str, default)) if isinstance(default, (list, tuple)) else "%(default)s"
        return f"{text} (default: {shown})".lstrip()


def _add_errata_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--errata",
        type=Path,
        default=None,
        help="errata for the golds in the schema of the LoCoMo audit (dial481/locomo-audit): a "
        "JSON file, or a folder of them",
    )
    p.add_argument(
        "--errata-mode",
        choices=ERRATA_MODES,
        default="exclude",
        help="exclude: drop questions whose gold is wrong (all but WRONG_CITATION); correct: "
        "score against correct_answer, evidence from correct_evidence",
    )


def _errata(args: argparse.Namespace) -> Errata | None:
    if args.errata is None:
        return None
    return load_errata(args.errata, args.errata_mode)


def _add_dataset_args(
    p: argparse.ArgumentParser,
    dataset_default: str | None = "locomo",
    split_default: str | None = "all",
) -> None:
    p.add_argument("--dataset", choices=[*DATASETS, "sample"], default=dataset_default)
    p.add_argument(
        "--data", type=Path, default=None, help="dataset file or folder (default: bundled sample)"
    )
    p.add_argument("--split", choices=SPLITS, default=split_default)
    p.add_argument("--include-adversarial", action="store_true", help="keep LoCoMo category 5")
    p.add_argument("--strict", action="store_true", help="treat every data warning as an error")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="memgym", description=__doc__.splitlines()[0], formatter_class=HelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"memgym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    # Every subcommand's --help shows its defaults.
    add_parser = commands.add_parser
    commands.add_parser = lambda *a, **k: add_parser(*a, formatter_class=HelpFormatter, **k)  # type: ignore[method-assign]

    data = commands.add_parser("data", help="inspect, validate and download datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True)
    add_data_parser = data_commands.add_parser
    data_commands.add_parser = lambda *a, **k: add_data_parser(  # type: ignore[method-assign]
        *a, formatter_class=HelpFormatter, **k
    )
    stats = data_commands.add_parser("stats", help="counts per split and category")
    _add_dataset_args(stats)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    stats.add_argument(
        "--episodes",
        choices=["conversation", "window"],
        default=None,
        help="also count env episodes (window: Memory-R1's training tuples) and skipped questions",
    )
    stats.add_argument("--window", type=_at_least(0), default=DEFAULT_WINDOW, help="turns before t")
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
    score.add_argument(
        "--predictions", type=Path, required=True, help="JSONL: question_id, prediction"
    )
    score.add_argument(
        "--dataset", choices=[*DATASETS, "sample"], default=None, help="(default: from the file)"
    )
    score.add_argument("--data", type=Path, default=None)
    score.add_argument("--split", choices=SPLITS, default=None)
    score.add_argument("--include-adversarial", action="store_true")
    score.add_argument("--strict", action="store_true")
    score.add_argument("--protocol", choices=sorted(PROTOCOLS), default=DEFAULT_PROTOCOL)
    score.add_argument("--naming", choices=["locomo", "mem0"], default="locomo")
    score.add_argument("--out", type=Path, default=None, help="write the full report (JSON)")
    _add_errata_args(score)
    graded = score.add_argument_group("judge (optional)")
    graded.add_argument("--judge-base-url", default=None, help="OpenAI-compatible endpoint")
    graded.add_argument("--judge-model", default=None)
    graded.add_argument(
        "--judge-prompt",
        type=Path,
        default=None,
        help="your judge template (Mem0's or LongMemEval's own prompt, say) with {question}, "
        "{gold_answer} and {generated_answer}; checked before any call, sha256 recorded "
        "(default: memgym's lenient and strict judges)",
    )
    graded.add_argument(
        "--judge-parse",
        choices=PARSE_RULES,
        default="label",
        help="how the template's replies are read: label or yes (memgym's readings of Mem0's "
        "and LongMemEval's verdicts), mem0-exact or longmemeval-exact (the references' own "
        "rules)",
    )
    graded.add_argument(
        "--judge-max-tokens", type=int, default=512, help="reply budget (LongMemEval's: 10)"
    )
    graded.add_argument("--api-key-env", default="OPENAI_API_KEY")
    graded.add_argument("--timeout", type=float, default=60.0, help="deadline per call (s)")

    evaluate = commands.add_parser("eval", help="run the leaderboard evaluation")
    add_eval_args(evaluate)

    report = commands.add_parser(
        "report",
        help="compare runs: scores with intervals and paired tests in the terminal, optionally "
        "one static HTML page",
    )
    report.add_argument("runs", nargs="+", type=Path, help="results folders of memgym eval")
    report.add_argument("--html", type=Path, default=None, help="also write this HTML page")
    report.add_argument("--naming", choices=["locomo", "mem0"], default="locomo")
    report.add_argument(
        "--shared-questions",
        action="store_true",
        help="compare runs over different question sets on the questions they share",
    )
    report.add_argument(
        "--metric",
        action="append",
        choices=list(METRIC_LABELS),
        default=None,
        help="only this metric in the terminal report (repeatable; default: every metric)",
    )
    report.add_argument(
        "--brief",
        action="store_true",
        help="only the overall scores and the overall line of each paired test",
    )
    _add_errata_args(report)
    return parser


def add_eval_args(p: argparse.ArgumentParser) -> None:
    """Options of `memgym eval` (also used by benchmarks/leaderboard.py)."""
    # No defaults here: with --predictions, what is not given comes from the file's header.
    _add_dataset_args(p, None, None)
    p.add_argument("--out", type=Path, required=True, help="results folder")
    p.add_argument(
        "--manager", default="heuristic", help=f"{', '.join(MANAGERS)} or module:callable"
    )
    p.add_argument(
        "--answerer",
        default="extractive",
        help=f"{', '.join(ANSWERERS)} (oracle_support is an ORACLE) or module:callable",
    )
    p.add_argument("--fact-source", choices=["dataset", "turns"], default=None)
    p.add_argument("--retriever", choices=["bm25", "dense", "hybrid"], default="hybrid")
    p.add_argument("--embedder", default="minilm", help="minilm (offline model) or hashing[-DIM]")
    p.add_argument("--observation-k", type=_at_least(1), default=10)
    p.add_argument(
        "--answer-k",
        type=_at_least(1),
        default=None,
        help="memories per speaker for the reader (default: as many as fit its 4,096-token "
        "prompt; 30 is Memory-R1's 60-memory setup)",
    )
    p.add_argument("--namespace-by", choices=["speaker", "none"], default="speaker")
    p.add_argument(
        "--memory-capacity",
        type=_capacity,
        default=None,
        metavar="TOKENS|SHARE",
        help="cap each speaker's bank: an int of tokens, or a share in (0, 1) of that "
        "speaker's fact tokens (default: unbounded); use with --fact-source turns",
    )
    p.add_argument(
        "--answer-prompt",
        default=None,
        help="a template replacing the llm answerer's prompt (placeholders {memories} and "
        "{question}; checked before the run, sha256 recorded)",
    )
    p.add_argument(
        "--policy-file",
        default=None,
        help="the ppo manager's policy (safetensors written by examples/train_sb3_manager.py; "
        "default: the shipped one)",
    )
    p.add_argument("--protocol", choices=sorted(PROTOCOLS), default=DEFAULT_PROTOCOL)
    p.add_argument("--naming", choices=["locomo", "mem0"], default="locomo")
    p.add_argument(
        "--workers", type=_at_least(1), default=1, help="conversations evaluated in parallel"
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run conversations as Ray tasks (a local Ray when no address is given)",
    )
    p.add_argument("--restart", action="store_true", help="discard results of another config")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        action="store_true",
        help="always show the progress bar (default: a bar on a terminal, one line per "
        "finished conversation otherwise)",
    )
    shown.add_argument("--no-progress", action="store_true", help="show no progress at all")
    p.add_argument(
        "--predictions", type=Path, default=None, help="score this JSONL instead of running agents"
    )
    p.add_argument("--name", default=None, help="the submission's name (with --predictions)")
    p.add_argument(
        "--inject", type=_at_least(0), default=0, help="planted injections per conversation"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the random manager and --inject")
    _add_errata_args(p)
    model = p.add_argument_group("models (for llm agents)")
    model.add_argument("--base-url", default=None, help="OpenAI-compatible endpoint")
    model.add_argument("--model", default=None, help="model name at --base-url")
    model.add_argument("--model-path", default=None, help="local transformers model folder")
    model.add_argument("--gguf-file", default=None, help="a GGUF file inside --model-path")
    model.add_argument("--llama-cpp", default=None, help="a GGUF file run by llama-cpp-python")
    model.add_argument(
        "--api-key-env", default="OPENAI_API_KEY", help="environment variable with the key"
    )
    model.add_argument("--timeout", type=_seconds, default=60.0, help="deadline per call (s)")
    model.add_argument("--max-retries", type=_at_least(0), default=3)
    model.add_argument(
        "--concurrency",
        type=_at_least(1),
        default=8,
        help="calls in flight to the endpoint; conversations run in that many threads",
    )
    judge = p.add_argument_group("judge")
    judge.add_argument("--judge", action="store_true", help="also score with an LLM judge")
    judge.add_argument("--judge-base-url", default=None)
    judge.add_argument("--judge-model", default=None)
    judge.add_argument(
        "--judge-self",
        action="store_true",
        help="grade with the answerer's own model (recorded; Memory-R1 uses a separate judge)",
    )
    judge.add_argument(
        "--judge-criteria",
        nargs="+",
        choices=["lenient", "strict"],
        default=["lenient", "strict"],
        help="Mem0's lenient judge, its strict variant, or both (default: both, and their gap)",
    )
    judge.add_argument(
        "--judge-prompt",
        type=Path,
        default=None,
        help="also grade every answer with your judge template ({question}, {gold_answer}, "
        "{generated_answer}; checked before the run, sha256 recorded) as judge_template",
    )
    judge.add_argument(
        "--judge-parse",
        choices=PARSE_RULES,
        default="label",
        help="how --judge-prompt's replies are read (see memgym score --help)",
    )


def eval_config(args: argparse.Namespace) -> EvalConfig:
    """The run's configuration from parsed `memgym eval` options."""
    wants_model = any((args.base_url, args.model, args.model_path, args.llama_cpp))
    calls = {
        "api_key_env": args.api_key_env,
        "timeout": args.timeout,
        "max_retries": args.max_retries,
        "concurrency": args.concurrency,
    }
    llm = None
    if wants_model:
        llm = LLMSettings(
            base_url=args.base_url,
            model=args.model,
            model_path=args.model_path,
            gguf_file=args.gguf_file,
            llama_cpp=args.llama_cpp,
            **calls,
        )
    judge = None
    if args.judge or args.judge_base_url or args.judge_self:
        judge_llm = None
        if args.judge_base_url or args.judge_model:
            judge_llm = LLMSettings(base_url=args.judge_base_url, model=args.judge_model, **calls)
        judge = JudgeSettings(judge_llm, args.judge_self, tuple(args.judge_criteria))
    return EvalConfig(
        dataset=args.dataset or "locomo",
        data=None if args.data is None else str(args.data),
        split=args.split or "all",
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
            memory_capacity=args.memory_capacity,
        ),
        protocol=args.protocol,
        llm=llm,
        judge=judge,
        inject=args.inject,
        seed=args.seed,
        strict=args.strict,
        policy_file=args.policy_file,
        answer_prompt=args.answer_prompt,
    )


def _capacity(text: str) -> int | float:
    """`--memory-capacity`: whole tokens, or a share in (0, 1)."""
    try:
        return parse_capacity(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_eval_command(args: argparse.Namespace) -> int:
    """`memgym eval`: run (or resume) an evaluation, or score a submission; print the table."""
    start = time.perf_counter()
    if args.predictions is not None:
        _options_from_header(args, read_predictions(args.predictions)[1])
    config = eval_config(args)
    errata = _errata(args)
    template = None
    if args.judge_prompt is not None:  # its placeholders are checked before anything runs
        template = TemplateJudge(load_template(args.judge_prompt), args.judge_parse)
        if args.predictions is not None:
            raise UsageError(
                "--judge-prompt grades a run's answers; for a predictions file use memgym score "
                "--judge-prompt"
            )
    if args.predictions is not None:
        results = score_submission(
            config,
            args.predictions,
            args.out,
            args.naming,
            args.name,
            args.restart,
            errata=errata,
        )
    else:
        backend = None
        if args.ray is not None:
            from memgym.leaderboard.ray_backend import ray_backend

            backend = ray_backend(None if args.ray == "local" else args.ray, args.workers)
        results = run_eval(
            config,
            args.out,
            workers=args.workers,
            restart=args.restart,
            progress=False if args.no_progress else True if args.progress else None,
            naming=args.naming,
            backend=backend,
            errata=errata,
            judge_template=template,
        )
    print(markdown_table(results, args.naming), end="")
    print(f"\nwall time {time.perf_counter() - start:.1f} s; results in {args.out}")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: files finished so far stay, locks are released."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return _command(args)
    except KeyboardInterrupt as exc:
        saved = ""
        if args.command == "eval":
            done = len(list((args.out / "conversations").glob("*.json")))
            saved = f"; {_plural(done, 'conversation')} saved; rerun to resume"
        print(f"interrupted{saved}", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _command(args: argparse.Namespace) -> int:
    try:
        if args.command == "data":
            return _data(args)
        if args.command == "score":
            return _score(args)
        if args.command == "eval":
            return run_eval_command(args)
        if args.command == "report":
            if args.html is not None:
                refuse_run_file(args.html, "--html")
            print(
                run_report(
                    args.runs,
                    html=args.html,
                    naming=args.naming,
                    shared=args.shared_questions,
                    errata=_errata(args),
                    metrics=args.metric,
                    brief=args.brief,
                ),
                end="",
            )
            if args.html is not None:
                print(f"HTML report: {args.html}")
            return 0
    except (DatasetError, RunConfigError, UsageError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (ConfigMismatchError, RunFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write{where}: {exc.strerror or exc}", file=sys.stderr)
        return 5
    return 1


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


def _score_judges(args: argparse.Namespace, protocol_name: str) -> dict[str, Judge]:
    """The judges `memgym score` grades with: a template judge (checked now, before any call),
    or the protocol's lenient and strict judges; none without an endpoint."""
    if args.judge_prompt is not None:
        judge = TemplateJudge(load_template(args.judge_prompt), args.judge_parse)
        if not (args.judge_base_url and args.judge_model):
            raise UsageError(
                "--judge-prompt needs a judge: --judge-base-url URL --judge-model NAME"
            )
        return {"judge_template": judge}
    if bool(args.judge_base_url) != bool(args.judge_model):
        raise UsageError("a judge needs both --judge-base-url and --judge-model")
    if not args.judge_base_url:
        return {}
    return judges_for(evaluation_protocol(protocol_name), ("lenient", "strict"))


def _score(args: argparse.Namespace) -> int:
    if args.out is not None:
        refuse_run_file(args.out, "--out")
    judges = _score_judges(args, args.protocol)
    predictions, header = read_predictions(args.predictions)
    if args.dataset is None and header is None:
        raise UsageError(
            f"{args.predictions} does not say which dataset it answers (no memgym header "
            "line): give --dataset (and --data FILE, --split) to score it against"
        )
    _options_from_header(args, header)
    dataset = _load(args)
    errata = _errata(args)
    if errata is not None:
        dataset = apply_errata(dataset, errata)
    # The evaluation's own protocol: every lexical metric, so the columns are eval's.
    protocol = evaluation_protocol(args.protocol)
    judge_client = None
    if judges:
        from memgym.agents.clients import make_client

        judge_client = make_client(
            {
                "base_url": args.judge_base_url,
                "model": args.judge_model,
                "api_key_env": args.api_key_env,
                "timeout": args.timeout,
                "temperature": 0.0,
                "max_tokens": args.judge_max_tokens,
            }
        )
    report = score_predictions(dataset, predictions, protocol, judge_client, judges or None)
    if errata is not None:
        report["errata"] = errata_section(dataset, protocol)
    if args.out is not None:
        atomic_write_json(args.out, report)
    summary = report["summary"]
    if {"judge", "judge_strict"} <= set(summary["overall"]):
        summary["judge_gap"] = summary["overall"]["judge"] - summary["overall"]["judge_strict"]
    table = {
        "kind": "submission",
        "title": f"predictions {args.predictions}",
        "subset": subset_of(dataset, protocol),
        "protocol": {**report["protocol"], "judge_model": args.judge_model},
        "dataset": dataset.fingerprint(),
        "summary": report["summary"],
    }
    if errata is not None:
        table["errata"] = report["errata"]
    print(markdown_table(table, args.naming, published=False), end="")
    unknown, missing = report["unknown_predictions"], report["missing_predictions"]
    matched = len(predictions) - len(unknown)
    print(
        f"{matched} of {len(predictions)} predictions match questions of {dataset.source} "
        f"(split {dataset.split}); {len(unknown)} unknown ids; {len(missing)} questions without "
        "a prediction (scored as empty)",
        file=sys.stderr,
    )
    if unknown:
        print(f"unknown ids, first ones: {', '.join(unknown[:5])}", file=sys.stderr)
    return 0 if matched else 1


def _options_from_header(args: argparse.Namespace, header: dict[str, Any] | None) -> None:
    """Dataset options not given on the command line come from the predictions' header (a file
    written by `memgym eval` names its data, split and subset)."""
    source = header or {}
    args.dataset = args.dataset or source.get("dataset", "locomo")
    args.data = args.data or (Path(source["data"]) if source.get("data") else None)
    args.split = args.split or source.get("split", "all")
    args.include_adversarial = args.include_adversarial or source.get("include_adversarial", False)


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
    if stats.get("warnings"):
        print(f"  data warnings          {stats['warnings']} (memgym data validate lists them)")
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
