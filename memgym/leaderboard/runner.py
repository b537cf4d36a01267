"""Run an evaluation: validate it, then one job per conversation, each written atomically,
resumable, in parallel processes (or on Ray), with one progress bar. With an LLM endpoint,
conversations also run in threads, up to the endpoint's `concurrency`: the run then waits on
the server, not on this machine's cores.

Everything that can be checked is checked before the output folder is touched: the agents
resolve, the models they need are given, the judge is a separate model (or the reuse of the
answerer's was asked for), the data loads. A run that fails before its first result leaves no
manifest behind.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from pathlib import Path
from typing import Any

from tqdm import tqdm

from memgym.agents.registry import describe_agent, is_oracle, make_answerer, make_manager
from memgym.data.categories import Naming
from memgym.data.errata import Errata, apply_errata
from memgym.data.loading import load_dataset, report_warnings
from memgym.data.schema import Conversation, Dataset
from memgym.io import sha256_file, stable_hash
from memgym.leaderboard.config import EvalConfig
from memgym.leaderboard.conversation import evaluate_conversation
from memgym.leaderboard.outdir import ConfigMismatchError, RunFolder, RunFolderError
from memgym.leaderboard.progress import ConversationLines
from memgym.leaderboard.report import write_outputs
from memgym.leaderboard.results import build_results, run_title, runtime
from memgym.leaderboard.template_judging import SCORE, grade_with_template, judge_model
from memgym.metrics.prompt_files import TemplateJudge, load_answer_prompt
from memgym.metrics.protocols import evaluation_protocol
from memgym.metrics.scoring import read_predictions, score_predictions

__all__ = [
    "ConfigMismatchError",
    "RunConfigError",
    "RunFolderError",
    "run_eval",
    "score_submission",
]

Backend = Callable[
    [EvalConfig, list[Conversation], str | None], Iterator[tuple[str, dict[str, Any]]]
]


class RunConfigError(ValueError):
    """A run that cannot start: what is wrong, and what would be valid."""


def prepare(
    config: EvalConfig, errata: Errata | None = None
) -> tuple[Dataset, dict[str, Any], bool]:
    """The dataset, the agents' descriptions and whether an agent reads the golds (an ORACLE
    run), or RunConfigError / DatasetError before anything is written."""
    for role, spec in (("manager", config.manager), ("answerer", config.answerer)):
        if spec in ("llm", "llm-compact") and config.llm is None:
            raise RunConfigError(
                f"--{role} {spec} needs a model: --base-url URL --model NAME, --model-path DIR "
                "or --llama-cpp FILE.gguf"
            )
    if config.inject < 0:
        raise RunConfigError(f"--inject must be 0 or more, got {config.inject}")
    if config.llm is not None and (problem := config.llm.problem()):
        raise RunConfigError(problem)
    if config.judge is not None:
        if config.judge.same_as_answerer and config.llm is None:
            raise RunConfigError("--judge-self needs the answerer's model (--base-url, --model)")
        if not config.judge.same_as_answerer:
            if config.judge.llm is None:
                raise RunConfigError(
                    "--judge needs its own model: --judge-base-url URL --judge-model NAME "
                    "(or --judge-self to grade with the answerer's model, recorded as such)"
                )
            if problem := config.judge.llm.problem():
                raise RunConfigError(f"judge: {problem}")
            answerer_llm = config.llm if config.answerer == "llm" else None
            if answerer_llm is not None and config.judge.llm.identity() == answerer_llm.identity():
                raise RunConfigError(
                    "the judge is the answerer's own model; --judge-self grades with it and "
                    "records that it did"
                )
    if config.policy_file is not None and config.manager != "ppo":
        raise RunConfigError("--policy-file is the ppo manager's policy: add --manager ppo")
    try:
        manager = make_manager(
            config.manager,
            _placeholder(config),
            evidence_turn_ids=frozenset(),
            policy_file=config.policy_file,
        )
        template = None
        if config.answer_prompt is not None:  # placeholders checked before anything runs
            template = load_answer_prompt(config.answer_prompt)
        answerer = make_answerer(config.answerer, {}, _placeholder(config), template)
    except (ValueError, TypeError) as exc:
        raise RunConfigError(str(exc)) from exc
    dataset = load_split(config, errata)
    if not dataset.conversations:
        raise RunConfigError(f"split {config.split!r} of {dataset.source} has no conversations")
    agents = {"manager": describe_agent(manager), "answerer": describe_agent(answerer)}
    return dataset, agents, is_oracle(answerer) or is_oracle(manager)


def load_split(config: EvalConfig, errata: Errata | None = None) -> Dataset:
    """The conversations of `config`'s split with `errata` applied (DatasetError on warnings
    when `strict`, and on errata that do not match the data)."""
    dataset = load_dataset(
        config.dataset,
        config.data,
        config.split,
        include_adversarial=config.include_adversarial,
        strict=config.strict,
    )
    return dataset if errata is None else apply_errata(dataset, errata)


def recorded_settings(config: EvalConfig, dataset: Dataset) -> dict[str, Any]:
    """What the manifest keeps of a run, to name the settings a later run changes."""
    return {**config.to_dict(), "dataset_identity": dataset.fingerprint()}


def _placeholder(config: EvalConfig) -> Any:
    """A client object for resolving agent names (never called)."""
    if config.llm is None:
        return None
    from memgym.agents.clients import make_client

    return make_client(config.llm.client_spec())


def run_eval(
    config: EvalConfig,
    out: Path,
    *,
    workers: int = 1,
    restart: bool = False,
    progress: bool | None = None,
    naming: Naming = "locomo",
    backend: Backend | None = None,
    errata: Errata | None = None,
    judge_template: TemplateJudge | None = None,
) -> dict[str, Any]:
    """Evaluate every conversation of the split into `out`, resuming a previous run of the same
    configuration; returns the results (also written to `out/results.json`). `progress=None`
    shows a bar on a terminal and one line per finished conversation elsewhere; True forces the
    bar, False shows nothing. `errata` correct or exclude questions before anything runs;
    `judge_template` grades every answer once more, after the last conversation."""
    if judge_template is not None and judge_model(config) is None:
        raise RunConfigError(
            "--judge-prompt needs a judge: --judge --judge-base-url URL --judge-model NAME "
            "(or --judge-self)"
        )
    dataset, agents, oracle = prepare(config, errata)
    report_warnings(dataset)
    fingerprint = config.fingerprint(dataset.content_hash)
    settings = recorded_settings(config, dataset)
    started = time.perf_counter()
    with RunFolder(out) as folder:
        folder.check(fingerprint, restart, settings)
        # Replies stay cached across --restart: their key names endpoint, model and prompt.
        llm_cache = str(out / "llm_cache.sqlite") if config.llm is not None else None
        done = {c.id: folder.done(c.id) for c in dataset.conversations}
        pending = [c for c in dataset.conversations if done[c.id] is None]
        on_terminal = sys.stderr.isatty()
        bar = tqdm(
            total=sum(_work(c, config) for c in dataset.conversations),
            initial=sum(_work(c, config) for c in dataset.conversations if done[c.id]),
            unit="step",
            disable=not (progress or (progress is None and on_terminal)),
            file=sys.stderr,
            dynamic_ncols=True,
        )
        # Without a terminal (a log, a CI job) a bar is noise; a line per conversation is not.
        lines = ConversationLines(
            len(dataset.conversations),
            len(dataset.conversations) - len(pending),
            enabled=progress is None and not on_terminal,
        )
        # Local sequential runs tick per fact and question; other backends report whole
        # conversations: either way the bar ends each conversation at its full count.
        ticked: dict[str, int] = {}
        run = backend or _local(workers, _threads(config), bar, ticked)
        work = {c.id: _work(c, config) for c in pending}
        with bar:
            for conversation_id, result in run(config, pending, llm_cache):
                folder.write_manifest(fingerprint, settings)
                folder.save(result)
                done[conversation_id] = result
                bar.update(work[conversation_id] - ticked.get(conversation_id, 0))
                bar.set_postfix_str(f"{conversation_id} done", refresh=False)
                lines.finished(conversation_id)
        # Every conversation is done here: the loop above ends only when all are.
        per_conversation = [r for c in dataset.conversations if (r := done[c.id]) is not None]
        if len(per_conversation) != len(dataset.conversations):
            raise RunFolderError(f"{out}: a conversation ended without a result; rerun to resume")
        if judge_template is not None:
            # Its replies are cached in the folder, so a rerun asks the judge nothing twice.
            cache = str(out / "llm_cache.sqlite")
            per_conversation = grade_with_template(config, judge_template, per_conversation, cache)
        protocol = evaluation_protocol(config.protocol)
        results = build_results(
            config,
            dataset,
            fingerprint,
            per_conversation,
            {**agents, **_client_descriptions(config)},
            protocol,
            oracle=oracle,
            title=run_title(config, agents, oracle),
        )
        if judge_template is not None:
            results["protocol"]["judges"][SCORE] = judge_template.describe()
        results["timing"] = runtime(per_conversation, time.perf_counter() - started)
        write_outputs(out, results, naming)
    return results


def _client_descriptions(config: EvalConfig) -> dict[str, Any]:
    if config.judge is None or config.judge.llm is None:
        return {}
    from memgym.agents.clients import make_client

    client = make_client(config.judge.llm.client_spec())
    describe = getattr(client, "describe", None)
    return {"judge": describe() if callable(describe) else {"model": client.model}}


def _work(conversation: Conversation, config: EvalConfig) -> int:
    """Progress units of a conversation: its facts (published ones, or its turns when those
    are the facts), then its questions."""
    turns = sum(len(s.turns) for s in conversation.sessions)
    facts = turns if config.fact_source == "turns" else len(conversation.facts) or turns
    return facts + config.inject + len(conversation.questions)


def _threads(config: EvalConfig) -> int:
    """Conversations at once in one process: an endpoint's concurrency, else one."""
    llm = config.llm
    return llm.concurrency if llm is not None and llm.base_url else 1


def _local(workers: int, threads: int, bar: tqdm[Any], ticked: dict[str, int]) -> Backend:
    def run(
        config: EvalConfig, pending: list[Conversation], llm_cache: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        def tick_for(conversation_id: str) -> Callable[[str, int], None]:
            def tick(phase: str, n: int) -> None:
                ticked[conversation_id] = ticked.get(conversation_id, 0) + n
                bar.update(n)

            return tick

        if len(pending) <= 1 or (workers <= 1 and threads <= 1):
            for conversation in pending:
                bar.set_postfix_str(conversation.id, refresh=False)
                tick = tick_for(conversation.id)
                yield conversation.id, evaluate_conversation(config, conversation, llm_cache, tick)
            return
        pool: Executor
        jobs: list[tuple[Conversation, tuple[Any, ...]]]
        if workers > 1:  # processes report whole conversations
            pool = ProcessPoolExecutor(max_workers=workers)
            jobs = [(c, (config, c, llm_cache)) for c in pending]
        else:
            pool = ThreadPoolExecutor(max_workers=min(threads, len(pending)))
            jobs = [(c, (config, c, llm_cache, tick_for(c.id))) for c in pending]
        try:
            futures: dict[Future[dict[str, Any]], Conversation] = {
                pool.submit(evaluate_conversation, *arguments): c for c, arguments in jobs
            }
            while futures:
                finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                error: BaseException | None = None
                for future in finished:
                    conversation = futures.pop(future)
                    if future.exception() is not None:
                        error = error or future.exception()
                        continue
                    yield conversation.id, future.result()
                if error is not None:  # the finished conversations above are saved first
                    raise error
        finally:
            # On an error or Ctrl-C, conversations not started are dropped at once; those in
            # flight run to their end (a process exits after them; a second Ctrl-C stops
            # them) and are not saved: a resume redoes them.
            pool.shutdown(wait=False, cancel_futures=True)

    return run


def score_submission(
    config: EvalConfig,
    predictions: Path,
    out: Path,
    naming: Naming = "locomo",
    name: str | None = None,
    restart: bool = False,
    errata: Errata | None = None,
) -> dict[str, Any]:
    """Score an external predictions JSONL (a leaderboard entry) without running any agent;
    the entry is recorded as a submission (its name and file hash), never as agents. Like a
    run, it refuses a folder holding another configuration's results unless `restart`."""
    dataset = load_split(config, errata)
    report_warnings(dataset)
    protocol = evaluation_protocol(config.protocol)
    report = score_predictions(dataset, read_predictions(predictions)[0], protocol)
    digest = sha256_file(predictions)
    entry = name or predictions.stem
    fingerprint = stable_hash(
        {
            "submission": digest,
            "dataset": dataset.content_hash,
            "split": config.split,
            "include_adversarial": config.include_adversarial,
            "protocol": config.protocol,
        }
    )
    recorded = EvalConfig(
        dataset=config.dataset,
        data=config.data,
        split=config.split,
        include_adversarial=config.include_adversarial,
        manager="(submission)",
        answerer="(submission)",
        memory=config.memory,
        protocol=config.protocol,
    )
    agents = {"submission": {"name": entry, "file": str(predictions), "sha256": digest}}
    per_conversation = [
        {"conversation_id": "submission", "bank_size": 0, "questions": report["questions"]}
    ]
    with RunFolder(out) as folder:
        folder.check(fingerprint, restart)
        folder.write_manifest(fingerprint, recorded.to_dict())
        results = build_results(
            recorded,
            dataset,
            fingerprint,
            per_conversation,
            agents,
            protocol,
            oracle=False,
            title=f"submission {entry} (predictions sha256 {digest[:12]})",
            kind="submission",
        )
        del results["conversations"], results["retrieval"]
        results["missing_predictions"] = report["missing_predictions"]
        results["unknown_predictions"] = report["unknown_predictions"]
        write_outputs(out, results, naming)
    return results
