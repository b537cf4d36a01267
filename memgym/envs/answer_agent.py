"""AnswerAgentEnv: answer one benchmark question from retrieved memories; one step per episode."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
from gymnasium import spaces

from memgym.agents.base import AskedQuestion, MemoryManager, RetrievedMemory
from memgym.agents.parsing import parse_answer_output
from memgym.agents.registry import describe_agent, make_manager
from memgym.data.schema import Dataset, Question
from memgym.engine import ConversationMemory, MemoryConfig, embedding_cache_for
from memgym.envs.common import REWARD_METRICS, iso, metric_fn, resolve_dataset, slots_observation
from memgym.envs.spaces import UnicodeText, memory_slots_space
from memgym.facts import FactSource, default_fact_source, fact_source_name, fact_stream
from memgym.metrics.judge import ChatClient
from memgym.metrics.protocols import PROTOCOLS
from memgym.metrics.scoring import score_question


class AnswerAgentEnv(gym.Env[dict[str, Any], str]):
    """
    ## Description

    The answer agent of Memory-R1 as a one-step episode. The env picks a question; the bank of
    its conversation has been built by a frozen memory manager (the heuristic one by default)
    and the memories most similar to the question are shown, `answer_k` per speaker (60 in all
    for LoCoMo, as in Memory-R1). The agent answers; the reward is the answer's score.

    ## Action Space

    `UnicodeText(max_answer_chars)`: the answer. If it contains the marker `**Answer:**`, the
    text after the last marker is the answer and the memory slots listed before it are recorded
    in `info["selected"]` (Memory-R1's "memory distillation").

    ## Observation Space

    A `Dict` of `question` and `time` (`UnicodeText`; ISO 8601 time or "") and `memories`:
    `answer_k` slots per speaker namespace with `texts`, `speakers`, `times` and a `mask`.

    ## Rewards

    The score of the answer under `metric`: exact match by default, or "f1" (the dataset's own
    F1: LoCoMo's per-category rules), "locomo_f1", "mem0_f1", "bleu1", "judge" (needs
    `judge_client`), or a callable. `info["scores"]` holds every lexical metric.

    ## Starting State

    `reset(seed=s)` samples a question of the split with the env's RNG;
    `options={"question_id": ...}` picks one.

    ## Episode End

    After the single step: `terminated=True`, `truncated=False`.

    ## Arguments

    `dataset`, `data`, `split`, `fact_source` as for MemoryManagerEnv; `manager` (the frozen
    manager that builds each bank, "heuristic"); `retriever`, `embedder`, `dense_index`,
    `answer_k` (30), `namespace_by`; `metric`; `judge_client`; `max_answer_chars` (2000);
    `embedding_cache_dir`; `render_mode` ("ansi").

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012 (Gymnasium declares it so)

    def __init__(
        self,
        dataset: str | Dataset = "sample",
        data: str | Path | None = None,
        split: str = "all",
        *,
        fact_source: FactSource | None = None,
        manager: str | MemoryManager = "heuristic",
        retriever: str = "hybrid",
        embedder: str = "minilm",
        dense_index: Literal["exact", "hnsw"] = "exact",
        answer_k: int = 30,
        namespace_by: Literal["speaker", "none"] = "speaker",
        metric: str | Callable[[str, Question], float] = "exact_match",
        judge_client: ChatClient | None = None,
        max_answer_chars: int = 2000,
        include_adversarial: bool = False,
        embedding_cache_dir: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        self.dataset = resolve_dataset(dataset, data, split, include_adversarial)
        self.questions = list(self.dataset.questions())
        if not self.questions:
            raise ValueError(f"no questions in {self.dataset.name} split {self.dataset.split!r}")
        self.fact_source: FactSource = fact_source or default_fact_source(self.dataset.name)
        self.manager = make_manager(manager)
        self.config = MemoryConfig(
            retriever=retriever,
            embedder=embedder,
            dense_index=dense_index,
            answer_k=answer_k,
            namespace_by=namespace_by,
        )
        if metric == "judge":
            if judge_client is None:
                raise ValueError("metric='judge' needs judge_client")
            self.metric = None
        else:
            self.metric = metric_fn(metric)
        self.metric_name = (
            metric if isinstance(metric, str) else getattr(metric, "__name__", "custom")
        )
        self.judge_client = judge_client
        self.render_mode = render_mode
        self.embedding_cache_dir = embedding_cache_dir
        n_namespaces = 2 if namespace_by == "speaker" else 1
        self.n_slots = answer_k * n_namespaces
        self.observation_space = spaces.Dict(
            {
                "question": UnicodeText(10_000),
                "time": UnicodeText(64),
                "memories": memory_slots_space(self.n_slots, 100_000),
            }
        )
        self.action_space = UnicodeText(max_answer_chars)
        self._memories: dict[str, ConversationMemory] = {}
        self._question: Question | None = None
        self._shown: list[RetrievedMemory] = []
        self._done = True
        self._last: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        return {
            "env": "AnswerAgentEnv-v0",
            "dataset": self.dataset.fingerprint(),
            "fact_source": fact_source_name(self.fact_source),
            "manager": describe_agent(self.manager),
            "memory": self.config.describe(),
            "metric": self.metric_name,
        }

    def _memory_for(self, conversation_id: str) -> ConversationMemory:
        """The conversation's bank, built once by the frozen manager."""
        memory = self._memories.get(conversation_id)
        if memory is None:
            conversation = self.dataset.conversation_by_id[conversation_id]
            cache = embedding_cache_for(self.config, self.embedding_cache_dir)
            memory = ConversationMemory(conversation, self.config, cache)
            facts = fact_stream(conversation, self.fact_source)
            memory.prefetch([f.text for f in facts] + [q.text for q in conversation.questions])
            memory.run_manager(facts, self.manager)
            self._memories[conversation_id] = memory
        return memory

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "question_id" in options:
            matches = [q for q in self.questions if q.id == options["question_id"]]
            if not matches:
                raise ValueError(f"unknown question_id {options['question_id']!r}")
            question = matches[0]
        else:
            question = self.questions[int(self.np_random.integers(len(self.questions)))]
        memory = self._memory_for(question.conversation_id)
        self._question = question
        self._shown = memory.memories_for_question(AskedQuestion.of(question))[: self.n_slots]
        self._done = False
        self._last = {}
        observation = {
            "question": question.text,
            "time": iso(question.time),
            "memories": slots_observation(self._shown, self.n_slots),
        }
        info = {
            "question_id": question.id,
            "conversation_id": question.conversation_id,
            "category": question.category,
        }
        return observation, info

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._question is None or self._done:
            raise RuntimeError("call reset() before step()")
        question = self._question
        if isinstance(action, bytes):
            action = action.decode("utf-8", errors="replace")
        invalid = (
            None
            if isinstance(action, str)
            else f"action must be a str, got {type(action).__name__}"
        )
        parsed = parse_answer_output(action if isinstance(action, str) else "")
        scores = {name: float(fn(parsed.text, question)) for name, fn in REWARD_METRICS.items()}
        judge = None
        if self.judge_client is not None:
            protocol = PROTOCOLS["longmemeval" if isinstance(question.category, str) else "mem0"]
            judged = score_question(
                dataclasses.replace(protocol, metrics=()), question, parsed.text, self.judge_client
            )
            scores["judge"] = judged["scores"]["judge"]
            judge = {"correct": judged["judge"]["correct"], "error": judged["judge"]["error"]}
        reward = (
            scores["judge"] if self.metric is None else float(self.metric(parsed.text, question))
        )
        self._done = True
        self._last = {"answer": parsed.text, "reward": reward}
        info = {
            "question_id": question.id,
            "answer": parsed.text,
            "selected": list(parsed.selected),
            "gold": list(question.answers),
            "scores": scores,
            "judge": judge,
            "invalid_action": invalid,
        }
        observation = {"question": "", "time": "", "memories": slots_observation([], self.n_slots)}
        return observation, reward, True, False, info

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if self._question is None:
            return "AnswerAgentEnv: not reset\n"
        lines = [f"Q ({self._question.id}): {self._question.text}"]
        lines.extend(f"  [{m.slot}] {m.namespace}: {m.text}" for m in self._shown)
        if self._last:
            lines.append(f"answer: {self._last['answer']!r} reward {self._last['reward']:.3f}")
        return "\n".join(lines) + "\n"

    def __getstate__(self) -> dict[str, Any]:
        # Banks are rebuilt lazily in a worker process rather than pickled.
        return {**self.__dict__, "_memories": {}}
