"""Conversations as Ray tasks: `memgym eval --ray [ADDRESS]` on an existing cluster, or on a
local Ray with `--workers` CPUs.

One actor per worker evaluates conversation after conversation, so each worker process loads
the embedding model and its agents once; workers share the on-disk embedding cache (safe
across processes). The driver writes the same atomic, resumable per-conversation files as a
local run, and the results are identical to a local run of the same configuration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from memgym.data.schema import Conversation
from memgym.leaderboard.config import EvalConfig
from memgym.leaderboard.conversation import evaluate_conversation


class ConversationWorker:
    """A Ray actor's state: nothing but the process it keeps warm (model, caches)."""

    def evaluate(
        self, config: EvalConfig, conversation: Conversation, llm_cache: str | None
    ) -> dict[str, Any]:
        return evaluate_conversation(config, conversation, llm_cache)


def ray_backend(address: str | None, workers: int) -> Any:
    """A runner backend that evaluates conversations on Ray (see the module docstring)."""

    def run(
        config: EvalConfig, pending: list[Conversation], llm_cache: str | None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        try:
            import ray
            from ray.util import ActorPool
        except ImportError as exc:
            raise RuntimeError("--ray needs Ray: pip install 'memgym[ray]'") from exc
        if not pending:
            return
        if not ray.is_initialized():
            options: dict[str, Any] = {"log_to_driver": False, "include_dashboard": False}
            if address is None:
                options["num_cpus"] = max(workers, 1)
            ray.init(address=address, **options)
        size = max(1, min(workers, len(pending)))
        actor = ray.remote(num_cpus=1)(ConversationWorker)
        pool = ActorPool([actor.remote() for _ in range(size)])
        shared = ray.put(config)
        for result in pool.map_unordered(
            lambda worker, conversation: worker.evaluate.remote(shared, conversation, llm_cache),
            pending,
        ):
            yield result["conversation_id"], result

    return run
