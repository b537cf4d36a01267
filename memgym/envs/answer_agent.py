"""AnswerAgentEnv: answer one benchmark question from retrieved memories; one step per episode."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
from gymnasium import spaces
from tqdm import tqdm

from memgym.agents.base import MemoryManager, RetrievedMemory
from memgym.agents.parsing import parse_answer_output
from memgym.agents.registry import describe_agent, make_manager
from memgym.config import DEFAULT_ANSWER_PROMPT_TOKENS, DEFAULT_MAX_MEMORY_WORDS, MemoryConfig
from memgym.data.errata import Errata
from memgym.data.schema import Dataset, Question
from memgym.engine import ConversationMemory, embedding_cache_for
from memgym.envs.common import (
    REWARD_METRICS,
    InvalidActionError,
    iso,
    metric_fn,
    resolve_dataset,
    slots_observation,
)
from memgym.envs.spaces import UnicodeText, memory_slots_space
from memgym.envs.state import Continuable, jsonable_rng
from memgym.facts import FactSource, default_fact_source, fact_source_name, fact_stream
from memgym.metrics.judge import ChatClient
from memgym.metrics.protocols import PROTOCOLS
from memgym.metrics.scoring import score_question

STATE_VERSION = 1


class AnswerAgentEnv(Continuable, gym.Env[dict[str, Any], str]):
    """
    ## Description

    The answer agent of Memory-R1 as a one-step episode. The env picks a question; the bank of
    its conversation has been built by a frozen memory manager (the heuristic one by default)
    and the memories most similar to the question are shown, `answer_k` per speaker (60 in all
    for LoCoMo, as in Memory-R1), as many as fit the reader's prompt budget
    (`answer_prompt_tokens`). The agent answers; the reward is the answer's score.

    ## Action Space

    `UnicodeText(max_answer_chars)`: the answer. If it contains the marker `**Answer:**`, the
    text after the last marker is the answer and the memory slots listed before it are recorded
    in `info["selected"]` (Memory-R1's "memory distillation"). An invalid action (not a string,
    bytes that are not UTF-8, longer than `max_answer_chars`) is scored 0, costs
    `invalid_action_penalty` and is explained in `info["invalid_action"]`; with `strict=True`
    it raises `InvalidActionError`.

    ## Observation Space

    A `Dict` of `question` and `time` (`UnicodeText`; ISO 8601 time or "") and `memories`:
    `answer_k` slots per speaker namespace with `texts`, `speakers`, `times` and a `mask`.

    ## Rewards

    The score of the answer under `metric`: exact match by default, or "f1" (the dataset's own
    F1: LoCoMo's per-category rules), "locomo_f1", "mem0_f1", "bleu1", "judge" (needs
    `judge_client`, a separate model), or a callable. `info["scores"]` holds every lexical metric.

    ## Starting State

    `reset(seed=s)` samples a question of the split with the env's RNG;
    `options={"question_id": ...}` picks one.

    ## Episode End

    After the single step: `terminated=True`, `truncated=False`.

    ## Arguments

    `dataset`, `data`, `split` (train by default), `fact_source`, `retriever`, `embedder`,
    `dense_index`, `answer_k` (30), `namespace_by`, `max_memory_words`, `answer_prompt_tokens`
    as for MemoryManagerEnv; `manager` (the frozen manager that builds each bank, "heuristic");
    `metric`; `judge_client`; `max_answer_chars` (2000); `invalid_action_penalty` (-0.1);
    `strict`; `include_adversarial`; `errata` (as for MemoryManagerEnv); `embedding_cache_dir`;
    `render_mode` ("ansi").

    ## Version History

    - v0: initial version; the MemoryManagerEnv contract (invalid actions, strict, fork,
      JSON state), token-budgeted context.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 1}  # noqa: RUF012 (Gymnasium declares it so)

    def __init__(
        self,
        dataset: str | Dataset = "sample",
        data: str | Path | None = None,
        split: str = "train",
        *,
        fact_source: FactSource | None = None,
        manager: str | MemoryManager = "heuristic",
        retriever: str = "hybrid",
        embedder: str = "minilm",
        dense_index: Literal["exact", "hnsw"] = "exact",
        answer_k: int = 30,
        namespace_by: Literal["speaker", "none"] = "speaker",
        max_memory_words: int = DEFAULT_MAX_MEMORY_WORDS,
        answer_prompt_tokens: int = DEFAULT_ANSWER_PROMPT_TOKENS,
        metric: str | Callable[[str, Question], float] = "exact_match",
        judge_client: ChatClient | None = None,
        max_answer_chars: int = 2000,
        invalid_action_penalty: float = -0.1,
        strict: bool = False,
        include_adversarial: bool = False,
        errata: str | Path | Errata | None = None,
        embedding_cache_dir: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        self.dataset = resolve_dataset(dataset, data, split, include_adversarial, errata)
        self.questions = list(self.dataset.questions())
        if not self.questions:
            raise ValueError(f"no questions in {self.dataset.name} split {self.dataset.split!r}")
        self.question_by_id = {q.id: q for q in self.questions}
        self.fact_source: FactSource = fact_source or default_fact_source(self.dataset.name)
        self.manager = make_manager(manager, max_memory_words=max_memory_words)
        self.config = MemoryConfig(
            retriever=retriever,
            embedder=embedder,
            dense_index=dense_index,
            answer_k=answer_k,
            namespace_by=namespace_by,
            max_memory_words=max_memory_words,
            answer_prompt_tokens=answer_prompt_tokens,
        )
        if metric == "judge" and judge_client is None:
            raise ValueError("metric='judge' needs judge_client (a separate judge model)")
        self.metric = None if metric == "judge" else metric_fn(metric)
        self.metric_name = (
            metric if isinstance(metric, str) else getattr(metric, "__name__", "custom")
        )
        self.judge_client = judge_client
        self.max_answer_chars = max_answer_chars
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.strict = strict
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
            "invalid_action_penalty": self.invalid_action_penalty,
        }

    def _memory_for(self, conversation_id: str) -> ConversationMemory:
        """The conversation's bank, built once by the frozen manager."""
        memory = self._memories.get(conversation_id)
        if memory is None:
            conversation = self.dataset.conversation_by_id[conversation_id]
            cache = embedding_cache_for(self.config, self.embedding_cache_dir)
            memory = ConversationMemory(conversation, self.config, cache)
            facts = fact_stream(conversation, self.fact_source)
            texts = [f.text for f in facts] + [q.text for q in conversation.questions]
            # A real conversation takes tens of seconds on a CPU the first time (a bar on a
            # terminal only); its embeddings are then on disk for every later construction.
            with tqdm(
                total=(len(texts) if cache is not None else 0) + len(facts),
                desc=f"memgym: {conversation_id} bank",
                unit="item",
                disable=None,
                leave=False,
                file=sys.stderr,
            ) as bar:
                memory.prefetch(texts, bar.update)
                memory.run_manager(facts, self.manager, bar.update)
            if cache is not None:
                cache.save()
            self._memories[conversation_id] = memory
        return memory

    def _pose(self, question: Question, done: bool) -> dict[str, Any]:
        memory = self._memory_for(question.conversation_id)
        self._question, self._done = question, done
        self._shown = memory.answer_context(question)[: self.n_slots]
        return {
            "question": question.text,
            "time": iso(question.time),
            "memories": slots_observation(self._shown, self.n_slots),
        }

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "question_id" in options:
            wanted = options["question_id"]
            question = self.question_by_id.get(wanted) if isinstance(wanted, str) else None
            if question is None:
                raise ValueError(f"unknown question_id {options['question_id']!r}")
        else:
            question = self.questions[int(self.np_random.integers(len(self.questions)))]
        self._last = {}
        observation = self._pose(question, done=False)
        info = {
            "question_id": question.id,
            "conversation_id": question.conversation_id,
            "category": question.category,
        }
        return observation, info

    def _invalid(self, action: Any) -> tuple[str, str | None]:
        """The answer text, and why the action is invalid (None when it is valid)."""
        if isinstance(action, bytes):
            try:
                action = action.decode("utf-8")
            except UnicodeDecodeError:
                return "", "action is not valid UTF-8"
        if not isinstance(action, str):
            return "", f"action must be a str, got {type(action).__name__}"
        if len(action) > self.max_answer_chars:
            return "", f"action has {len(action)} characters, over {self.max_answer_chars}"
        return action, None

    def step(self, action: str) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._question is None or self._done:
            raise RuntimeError("the episode has ended (or not begun): call reset() before step()")
        question = self._question
        text, invalid = self._invalid(action)
        if invalid is not None and self.strict:
            raise InvalidActionError(invalid)
        parsed = parse_answer_output(text)
        scores = {name: float(fn(parsed.text, question)) for name, fn in REWARD_METRICS.items()}
        judge = None
        if self.judge_client is not None:
            protocol = PROTOCOLS["longmemeval" if isinstance(question.category, str) else "mem0"]
            judged = score_question(
                dataclasses.replace(protocol, metrics=()), question, parsed.text, self.judge_client
            )
            scores["judge"] = judged["scores"]["judge"]
            verdict = judged["judges"]["judge"]
            judge = {"correct": verdict["correct"], "error": verdict["error"]}
        score = (
            scores["judge"] if self.metric is None else float(self.metric(parsed.text, question))
        )
        if invalid is not None:
            score = 0.0
        penalty = self.invalid_action_penalty if invalid is not None else 0.0
        reward = score + penalty
        self._done = True
        self._last = {"answer": parsed.text, "reward": reward, "invalid": invalid}
        info = {
            "question_id": question.id,
            "answer": parsed.text,
            "selected": list(parsed.selected),
            "gold": list(question.answers),
            "scores": scores,
            "judge": judge,
            "invalid_action": invalid,
            "reward_components": {"score": score, "penalty": penalty},
        }
        observation = {"question": "", "time": "", "memories": slots_observation([], self.n_slots)}
        return observation, reward, True, False, info

    # -- state -----------------------------------------------------------------------------

    def _started(self) -> bool:
        return self._question is not None

    def _fork_into(self, twin: AnswerAgentEnv) -> None:
        # Banks are never written after they are built: the twin shares them.
        twin._memories = self._memories
        twin._last = dict(self._last)
        twin._shown = list(self._shown)

    def _transient(self) -> dict[str, Any]:
        return {"_memories": {}}

    def get_state(self) -> dict[str, Any]:
        """The episode as JSON: question, whether it was answered, RNG, last result."""
        if self._question is None:
            raise RuntimeError("call reset() before get_state()")
        return {
            "version": STATE_VERSION,
            "question_id": self._question.id,
            "done": self._done,
            "rng": jsonable_rng(self.np_random.bit_generator.state),
            "last": dict(self._last),
        }

    def set_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Continue from `get_state()` output; validated whole first (ValueError names the field,
        the env is left as it was). Returns the observation of the posed question."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"field 'version' must be {STATE_VERSION}")
        question_id = state.get("question_id")
        question = self.question_by_id.get(question_id) if isinstance(question_id, str) else None
        if question is None:
            raise ValueError(
                f"field 'question_id' names no question of this split: {state.get('question_id')!r}"
            )
        if not isinstance(state.get("done"), bool):
            raise ValueError("field 'done' must be a bool")
        if not isinstance(state.get("last"), dict):
            raise ValueError("field 'last' must be a dict")
        probe = type(self.np_random.bit_generator)()
        rng: Any = state.get("rng")
        try:
            probe.state = rng
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"field 'rng': {exc}") from exc
        observation = self._pose(question, state["done"])
        self._last = dict(state["last"])
        self.np_random.bit_generator.state = state["rng"]
        return observation

    def render(self) -> str | None:
        """The question, the memories shown and the last answer (`render_mode="ansi"`)."""
        if self.render_mode != "ansi":
            return None
        if self._question is None:
            return "AnswerAgentEnv: not reset\n"
        lines = [f"Q ({self._question.id}): {self._question.text}"]
        lines.extend(f"  [{m.slot}] {m.namespace}: {m.text}" for m in self._shown)
        if self._last:
            note = f" INVALID: {self._last['invalid']}" if self._last.get("invalid") else ""
            lines.append(
                f"answer: {self._last['answer']!r} reward {self._last['reward']:.3f}{note}"
            )
        return "\n".join(lines) + "\n"
