"""The frozen answer agent whose score is MemoryManagerEnv's reward, behind the shared cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from memgym.agents.answer_cache import CachingAnswerer, shared_answer_cache
from memgym.agents.base import AnswerAgent
from memgym.agents.clients import make_client
from memgym.agents.registry import describe_agent, is_oracle, make_answerer
from memgym.data.schema import Dataset, Question
from memgym.envs.common import metric_fn
from memgym.metrics.protocols import QuestionMetric


class RewardReader:
    """An answer agent wrapped in the process-wide (optionally on-disk) answer cache."""

    def __init__(self, answerer: AnswerAgent, dataset: Dataset, cache_dir: str | Path | None):
        self.inner = answerer
        description = describe_agent(answerer)
        # The oracle reads gold answers, so its answers depend on the data as well.
        fingerprint = {"reader": description, "dataset": dataset.content_hash}
        path = None if cache_dir is None else Path(cache_dir) / "answers.sqlite"
        self.answerer = CachingAnswerer(answerer, shared_answer_cache(path), fingerprint)
        self.oracle = is_oracle(answerer)
        self._description = description

    def describe(self) -> dict[str, Any]:
        return dict(self._description)

    @staticmethod
    def metric(metric: str | QuestionMetric) -> QuestionMetric:
        return metric_fn(metric)

    @staticmethod
    def metric_name(metric: str | Callable[[str, Question], float]) -> str:
        return metric if isinstance(metric, str) else getattr(metric, "__name__", "custom")


def make_reward_reader(
    dataset: Dataset,
    answerer: str | AnswerAgent,
    reader: Any = None,
    cache_dir: str | Path | None = None,
) -> RewardReader:
    """The reward reader: an answerer by name or object; "llm" reads through `reader` (a
    ChatClient or a spec dict, see `memgym.agents.clients.make_client`)."""
    if answerer == "llm" and reader is None:
        raise ValueError(
            'answerer="llm" needs reader=: a ChatClient, {"base_url": ..., "model": ...}, '
            '{"model_path": ...} or {"llama_cpp": "model.gguf"}'
        )
    client = None if reader is None else make_client(reader)
    gold = {q.id: list(q.answers) for q in dataset.questions()}
    return RewardReader(make_answerer(answerer, gold=gold, client=client), dataset, cache_dir)
