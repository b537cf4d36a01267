"""MemoryManagerEnv: build a memory bank fact by fact; rewarded by a frozen answerer's score."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from memgym.agents.base import (
    AnswerAgent,
    AskedQuestion,
    ManagerDecision,
    MemoryManager,
    RetrievedMemory,
)
from memgym.agents.parsing import parse_manager_output
from memgym.agents.registry import describe_agent, make_answerer, make_manager
from memgym.data.schema import Conversation, Dataset, Fact, Question
from memgym.engine import ConversationMemory, MemoryConfig, embedding_cache_for
from memgym.envs.common import iso, metric_fn, resolve_dataset, slots_observation
from memgym.envs.spaces import UnicodeText, memory_slots_space
from memgym.facts import (
    FactSource,
    default_fact_source,
    evidence_step,
    fact_source_name,
    fact_stream,
)
from memgym.memory.bank import BankSnapshot, MemoryBank
from memgym.memory.operations import Op
from memgym.metrics.protocols import QuestionMetric
from memgym.retrieval.base import Retriever
from memgym.retrieval.embedding_cache import EmbeddingCache

Schedule = Literal["episode", "session", "step"]
EpisodeKind = Literal["conversation", "window"]
MAX_FACT_CHARS = 100_000
STATE_VERSION = 1


class InvalidActionError(ValueError):
    """Raised instead of a penalty when the env is created with `strict=True`."""


@dataclass(frozen=True)
class _Episode:
    """What one episode walks: its facts and the questions that score it."""

    conversation: Conversation
    facts: tuple[Fact, ...]
    questions: tuple[Question, ...]
    arrival: tuple[int, ...]  # per question: index of the fact after which it counts
    window_turn: str | None = None
    prefix: tuple[Fact, ...] = ()


class MemoryManagerEnv(gym.Env[dict[str, Any], dict[str, Any]]):
    """
    ## Description

    The memory manager of Memory-R1 as an MDP. An episode walks one conversation's facts (LoCoMo's
    published observations, or every turn for LongMemEval and MSC). At each step the agent sees
    the new fact and the memories already stored for its speaker that are most similar to it,
    and chooses ADD (store a text), UPDATE (rewrite a shown memory), DELETE (remove a shown
    memory) or NOOP. A frozen answer agent then answers the benchmark's questions from the bank
    the policy built; its score is the reward.

    With `episode="window"` an episode is one of Memory-R1's training tuples instead: a turn t
    that completes the evidence of at least one question; the bank is first built by a reference
    manager from the facts of the `window` turns before t, the policy then handles the facts of
    turn t, and the reward is the score on the questions whose evidence completes at t.

    ## Action Space

    A `Dict`:

    | key | space | meaning |
    |---|---|---|
    | `op` | `Discrete(4)` | 0 ADD, 1 UPDATE, 2 DELETE, 3 NOOP |
    | `target` | `Discrete(observation_k)` | slot of a shown memory (UPDATE, DELETE; NOOP may) |
    | `text` | `UnicodeText(max_text_chars)` | memory text (ADD, UPDATE) |

    A string is accepted too: Mem0-style JSON (`{"memory": [{"id", "text", "event"}]}`) or the
    compact form `UPDATE 2: new text`. An invalid action (unknown op, slot out of range, missing
    target, empty, oversized or non-UTF-8 text, unreadable string) changes nothing, costs
    `invalid_action_penalty` and is explained in `info["invalid_action"]`; with `strict=True`
    it raises `InvalidActionError`.

    ## Observation Space

    A `Dict` of `fact` (`UnicodeText`), `speaker`, `time` (ISO 8601 or ""), `step` and
    `remaining` (`Box` int64 counters) and `memories`: `observation_k` slots with `texts`,
    `speakers`, `times` (empty strings when unused) and a `mask` (`MultiBinary`). Slot i of the
    observation is the target id i of the action. Text spaces accept any characters: vector envs
    need `AsyncVectorEnv(..., shared_memory=False)`.

    ## Rewards

    Let S(q) be the score (`metric`, exact match by default) of the answerer's answer to
    question q from the current bank, N the number of questions of the episode, and
    Phi_t = (1/N) * sum of S(q) over the questions whose evidence has arrived by step t
    (questions without linked evidence arrive at the last step). Schedules:

    - `episode`: 0 until the last step, then Phi_T (the mean score of all questions);
    - `step`: Phi_t - Phi_{t-1} at every step (potential-based shaping);
    - `session`: Phi_t - Phi at the previous session boundary, paid at each boundary.

    All three sum to Phi_T over an episode. An invalid action adds `invalid_action_penalty`.
    The default answerer is `support`, an oracle proxy that answers correctly exactly when the
    gold answer's words are all in the retrieved memories, so the default reward needs no LLM.
    `info["reward_components"]` splits each reward; the last step's info has `episode_score` and
    per-question results.

    ## Starting State

    An empty bank (conversation episodes) or the reference manager's bank (window episodes), and
    the first fact. `reset(seed=s)` picks the conversation (or window) with the env's RNG;
    `options={"conversation_id": ...}` or `options={"window_index": ...}` picks it explicitly;
    `options={"episode_index": i}` picks the i-th of `episodes` starts of either kind.

    ## Episode End

    Terminated after the last fact. Not truncated by the env itself; `gymnasium.make` can add
    `max_episode_steps`.

    ## Arguments

    - `dataset`: "sample" (default, bundled offline data), "locomo", "longmemeval", "msc" or a
      loaded `Dataset`; `data`: file path; `split`: all, train, val or test.
    - `fact_source`: "dataset", "turns" or a FactExtractor (default per dataset).
    - `episode`: "conversation" or "window"; `window`: preceding turns (24); `window_manager`:
      reference manager for window banks ("heuristic").
    - `retriever` ("hybrid", "bm25", "dense", or a factory returning a Retriever), `embedder`
      ("minilm", "hashing"), `dense_index`, `observation_k` (10), `answer_k` (30 per speaker),
      `namespace_by` ("speaker", "none").
    - `answerer` ("support", "extractive", an AnswerAgent), `metric` ("exact_match", "f1",
      "locomo_f1", "mem0_f1", "bleu1", or a callable), `reward_schedule`.
    - `invalid_action_penalty` (-0.1), `strict` (False), `max_text_chars` (8000),
      `embedding_cache_dir` (on-disk embedding cache; default `$MEMGYM_CACHE_DIR/embeddings`
      for the MiniLM embedder), `render_mode` ("ansi").

    ## Version History

    - v0: initial version.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 (Gymnasium declares it so)

    def __init__(
        self,
        dataset: str | Dataset = "sample",
        data: str | Path | None = None,
        split: str = "all",
        *,
        fact_source: FactSource | None = None,
        episode: EpisodeKind = "conversation",
        window: int = 24,
        window_manager: str | MemoryManager = "heuristic",
        retriever: str | Callable[[], Retriever] = "hybrid",
        embedder: str = "minilm",
        dense_index: Literal["exact", "hnsw"] = "exact",
        observation_k: int = 10,
        answer_k: int = 30,
        namespace_by: Literal["speaker", "none"] = "speaker",
        answerer: str | AnswerAgent = "support",
        metric: str | Callable[[str, Question], float] = "exact_match",
        reward_schedule: Schedule = "episode",
        invalid_action_penalty: float = -0.1,
        strict: bool = False,
        max_text_chars: int = 8000,
        include_adversarial: bool = False,
        embedding_cache_dir: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
        if reward_schedule not in ("episode", "session", "step"):
            raise ValueError(f"unknown reward_schedule {reward_schedule!r}")
        if episode not in ("conversation", "window"):
            raise ValueError(f"unknown episode kind {episode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unsupported render_mode {render_mode!r}")
        if observation_k < 1 or answer_k < 1 or window < 0:
            raise ValueError("observation_k and answer_k must be >= 1 and window >= 0")
        self.dataset = resolve_dataset(dataset, data, split, include_adversarial)
        self.fact_source: FactSource = fact_source or default_fact_source(self.dataset.name)
        self.retriever_factory = None if isinstance(retriever, str) else retriever
        self.config = MemoryConfig(
            retriever=retriever
            if isinstance(retriever, str)
            else getattr(retriever, "name", "custom"),
            embedder=embedder,
            dense_index=dense_index,
            observation_k=observation_k,
            answer_k=answer_k,
            namespace_by=namespace_by,
            max_text_chars=max_text_chars,
        )
        self.episode_kind: EpisodeKind = episode
        self.window = window
        self.window_manager = make_manager(window_manager)
        gold = {q.id: list(q.answers) for q in self.dataset.questions()}
        self.answerer = make_answerer(answerer, gold=gold)
        self.metric: QuestionMetric = metric_fn(metric)
        self.metric_name = (
            metric if isinstance(metric, str) else getattr(metric, "__name__", "custom")
        )
        self.reward_schedule: Schedule = reward_schedule
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.strict = strict
        self.render_mode = render_mode
        self.embedding_cache_dir = embedding_cache_dir
        self._facts_by_conversation = {
            c.id: tuple(fact_stream(c, self.fact_source)) for c in self.dataset.conversations
        }
        self._windows = self._find_windows() if episode == "window" else []
        if not self.dataset.conversations or (episode == "window" and not self._windows):
            raise ValueError(
                f"no {episode} episodes in {self.dataset.name} split {self.dataset.split!r}"
            )

        k = observation_k
        self.observation_space = spaces.Dict(
            {
                "fact": UnicodeText(MAX_FACT_CHARS),
                "speaker": UnicodeText(256),
                "time": UnicodeText(64),
                "step": spaces.Box(0, np.iinfo(np.int64).max, shape=(), dtype=np.int64),
                "remaining": spaces.Box(0, np.iinfo(np.int64).max, shape=(), dtype=np.int64),
                "memories": memory_slots_space(k, max_text_chars),
            }
        )
        self.action_space = spaces.Dict(
            {
                "op": spaces.Discrete(4),
                "target": spaces.Discrete(k),
                "text": UnicodeText(max_text_chars),
            }
        )
        self._window_banks: dict[int, BankSnapshot] = {}
        self._cache: EmbeddingCache | None = None
        self._clear_episode()

    # -- configuration ---------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Everything that determines rewards, for result files."""
        return {
            "env": "MemoryManagerEnv-v0",
            "dataset": self.dataset.fingerprint(),
            "fact_source": fact_source_name(self.fact_source),
            "episode": self.episode_kind,
            "window": self.window if self.episode_kind == "window" else None,
            "window_manager": describe_agent(self.window_manager)
            if self.episode_kind == "window"
            else None,
            "memory": self.config.describe(),
            "answerer": describe_agent(self.answerer),
            "metric": self.metric_name,
            "reward_schedule": self.reward_schedule,
            "invalid_action_penalty": self.invalid_action_penalty,
        }

    @property
    def visible_memories(self) -> list[RetrievedMemory]:
        """The memories shown with the current fact (slot i is action target i)."""
        return list(self._visible)

    @property
    def bank_size(self) -> int:
        """Live memories in the current episode's bank."""
        return 0 if self._memory is None else len(self._memory.bank)

    @property
    def current_fact(self) -> Fact | None:
        """The fact the next action is about (None before reset and after the last step)."""
        if self._episode is None or self._cursor >= len(self._episode.facts):
            return None
        return self._episode.facts[self._cursor]

    @property
    def episodes(self) -> int:
        """How many distinct starts reset can pick from."""
        return (
            len(self._windows) if self.episode_kind == "window" else len(self.dataset.conversations)
        )

    def _embedding_cache(self) -> EmbeddingCache | None:
        if self._cache is None:
            self._cache = embedding_cache_for(self.config, self.embedding_cache_dir)
        return self._cache

    def _new_memory(self, conversation: Conversation) -> ConversationMemory:
        if self.retriever_factory is not None:
            return ConversationMemory(conversation, self.config, None, self.retriever_factory)
        return ConversationMemory(conversation, self.config, self._embedding_cache())

    # -- episodes --------------------------------------------------------------------------

    def _find_windows(self) -> list[tuple[str, str, frozenset[str]]]:
        """(conversation id, turn id, question ids) for every turn that completes the evidence
        of some questions, in conversation order."""
        windows: list[tuple[str, str, frozenset[str]]] = []
        for conversation in self.dataset.conversations:
            facts = list(self._facts_by_conversation[conversation.id])
            by_turn: dict[str, set[str]] = {}
            for q in conversation.questions:
                step = evidence_step(facts, q.evidence_turn_ids)
                if step is not None:
                    by_turn.setdefault(_last_turn(conversation, facts[step]), set()).add(q.id)
            order = conversation.turn_position
            windows.extend(
                (conversation.id, t, frozenset(by_turn[t]))
                for t in sorted(by_turn, key=lambda t: order[t])
            )
        return windows

    def _make_episode(self, index: int) -> _Episode:
        if self.episode_kind == "conversation":
            conversation = self.dataset.conversations[index]
            facts = self._facts_by_conversation[conversation.id]
            return _episode(conversation, facts, conversation.questions)
        conversation_id, turn, question_ids = self._windows[index]
        conversation = self.dataset.conversation_by_id[conversation_id]
        facts = self._facts_by_conversation[conversation_id]
        order = conversation.turn_position
        position = order[turn]
        own = tuple(f for f in facts if _last_turn(conversation, f) == turn)
        prefix = tuple(
            f
            for f in facts
            if position - self.window <= order[_last_turn(conversation, f)] < position
        )
        questions = tuple(q for q in conversation.questions if q.id in question_ids)
        return dataclasses.replace(
            _episode(conversation, own, questions), window_turn=turn, prefix=prefix
        )

    def _clear_episode(self) -> None:
        self._episode: _Episode | None = None
        self._episode_index = -1
        self._memory: ConversationMemory | None = None
        self._cursor = 0
        self._visible: list[RetrievedMemory] = []
        self._potential = 0.0
        self._boundary_potential = 0.0
        self._answers: dict[str, tuple[tuple[str, ...], str, float]] = {}
        self._last: dict[str, Any] = {}
        self._op_counts = {op.name: 0 for op in Op}
        self._invalid_count = 0

    def _start(self, index: int) -> None:
        self._clear_episode()
        episode = self._make_episode(index)
        self._episode, self._episode_index = episode, index
        memory = self._new_memory(episode.conversation)
        texts = [f.text for f in (*episode.prefix, *episode.facts)] + [
            q.text for q in episode.questions
        ]
        memory.prefetch(texts)
        if episode.prefix:
            snapshot = self._window_banks.get(index)
            if snapshot is None:
                memory.run_manager(episode.prefix, self.window_manager)
                self._window_banks[index] = memory.bank.snapshot()
            else:
                memory.bank.restore(snapshot)
        self._memory = memory
        if self._cache is not None:
            self._cache.save()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "conversation_id" in options:
            if self.episode_kind != "conversation":
                raise ValueError("conversation_id selects conversation episodes; use window_index")
            ids = [c.id for c in self.dataset.conversations]
            if options["conversation_id"] not in ids:
                raise ValueError(f"unknown conversation_id {options['conversation_id']!r}")
            index = ids.index(options["conversation_id"])
        elif "window_index" in options:
            index = int(options["window_index"])
            if not 0 <= index < len(self._windows):
                raise ValueError(f"window_index must be in 0..{len(self._windows) - 1}")
        elif "episode_index" in options:
            index = int(options["episode_index"])
            if not 0 <= index < self.episodes:
                raise ValueError(f"episode_index must be in 0..{self.episodes - 1}")
        else:
            index = int(self.np_random.integers(self.episodes))
        self._start(index)
        return self._observe(), self._reset_info()

    def _reset_info(self) -> dict[str, Any]:
        assert self._episode is not None
        return {
            "conversation_id": self._episode.conversation.id,
            "window_turn": self._episode.window_turn,
            "n_facts": len(self._episode.facts),
            "n_questions": len(self._episode.questions),
            "bank_size": len(self._memory.bank) if self._memory else 0,
        }

    # -- observation -----------------------------------------------------------------------

    def _observe(self) -> dict[str, Any]:
        assert self._episode is not None and self._memory is not None
        k = self.config.observation_k
        facts = self._episode.facts
        if self._cursor < len(facts):
            fact = facts[self._cursor]
            self._visible = self._memory.memories_for_fact(fact)
            head = {"fact": fact.text, "speaker": fact.speaker, "time": iso(fact.time)}
        else:
            self._visible = []
            head = {"fact": "", "speaker": "", "time": ""}
        return {
            **head,
            "step": np.array(self._cursor, dtype=np.int64),
            "remaining": np.array(len(facts) - self._cursor, dtype=np.int64),
            "memories": slots_observation(self._visible, k),
        }

    # -- step ------------------------------------------------------------------------------

    def step(
        self, action: dict[str, Any] | str
    ) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        if self._episode is None or self._memory is None:
            raise RuntimeError("call reset() before step()")
        if self._cursor >= len(self._episode.facts):
            raise RuntimeError("the episode has ended; call reset()")
        fact = self._episode.facts[self._cursor]
        decision = self.decision_from_action(action)
        invalid = decision.error
        outcome_entry: str | None = None
        if invalid is None:
            outcome = self._memory.apply(decision, fact, self._visible, self._cursor)
            invalid, outcome_entry = outcome.invalid, outcome.entry_id
        if invalid is not None:
            if self.strict:
                raise InvalidActionError(invalid)
            self._invalid_count += 1
        else:
            self._op_counts[decision.op.name] += 1
        step_index = self._cursor
        self._cursor += 1
        terminated = self._cursor >= len(self._episode.facts)
        score = self._scheduled_reward(step_index, terminated)
        penalty = self.invalid_action_penalty if invalid is not None else 0.0
        self._last = {
            "fact": fact.text,
            "op": decision.op.name,
            "entry_id": outcome_entry,
            "invalid": invalid,
            "text": decision.text,
        }
        info: dict[str, Any] = {
            "step": step_index,
            "conversation_id": self._episode.conversation.id,
            "op": decision.op.name,
            "entry_id": outcome_entry,
            "invalid_action": invalid,
            "reward_components": {"score": score, "penalty": penalty},
            "potential": self._potential,
            "bank_size": len(self._memory.bank),
        }
        if terminated:
            info.update(self._final_info())
        return self._observe(), score + penalty, terminated, False, info

    def decision_from_action(self, action: Any) -> ManagerDecision:
        """A ManagerDecision from a dict or string action; problems go to `error`, never raise."""
        if isinstance(action, str):
            return parse_manager_output(action, len(self._visible))
        if not isinstance(action, dict):
            return ManagerDecision(
                Op.NOOP, error=f"action must be a dict or str, got {type(action).__name__}"
            )
        try:
            op = Op.parse(_plain(action["op"]))
        except (KeyError, ValueError, TypeError, AttributeError):
            return ManagerDecision(Op.NOOP, error=f"unknown op {action.get('op')!r}")
        target = _plain(action.get("target"))
        if target is not None and (isinstance(target, bool) or not isinstance(target, int)):
            return ManagerDecision(op, error=f"target must be an int slot, got {target!r}")
        if target is not None and target < 0:
            target = None
        # ADD has no target; a NOOP may name a shown memory, otherwise its target is ignored.
        if op == Op.ADD or (op == Op.NOOP and target is not None and target >= len(self._visible)):
            target = None
        text = action.get("text")
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                return ManagerDecision(op, error="text is not valid UTF-8")
        if op in (Op.ADD, Op.UPDATE):
            if not isinstance(text, str):
                return ManagerDecision(op, error=f"{op.name} needs a text string")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return ManagerDecision(op, error="text is not valid UTF-8")
        else:
            text = None
        return ManagerDecision(op, target, text)

    # -- rewards ---------------------------------------------------------------------------

    def _scheduled_reward(self, step_index: int, terminated: bool) -> float:
        assert self._episode is not None
        if self.reward_schedule == "episode":
            if not terminated:
                return 0.0
            self._potential = self._potential_at(step_index)
            return self._potential
        previous = self._potential
        if self.reward_schedule == "step":
            self._potential = self._potential_at(step_index)
            return self._potential - previous
        facts = self._episode.facts
        boundary = terminated or facts[step_index + 1].session_id != facts[step_index].session_id
        if not boundary:
            return 0.0
        self._potential = self._potential_at(step_index)
        reward = self._potential - self._boundary_potential
        self._boundary_potential = self._potential
        return reward

    def _potential_at(self, step_index: int) -> float:
        """Phi: mean over the episode's questions of the score of those arrived by `step_index`."""
        assert self._episode is not None
        questions = self._episode.questions
        if not questions:
            return 0.0
        arrived = [
            q for q, a in zip(questions, self._episode.arrival, strict=True) if a <= step_index
        ]
        return sum(self._scores(arrived).values()) / len(questions)

    def _scores(self, questions: Sequence[Question]) -> dict[str, float]:
        """Score per question; the answerer reruns only where the retrieved memories changed."""
        assert self._memory is not None
        retrieved = {q.id: self._memory.memories_for_question(q) for q in questions}
        keys = {qid: tuple(f"{m.id}\x00{m.text}" for m in mems) for qid, mems in retrieved.items()}
        stale = [
            q
            for q in questions
            if q.id not in self._answers or self._answers[q.id][0] != keys[q.id]
        ]
        if stale:
            answers = self.answerer.answer_batch(
                [(AskedQuestion.of(q), retrieved[q.id]) for q in stale]
            )
            for q, answer in zip(stale, answers, strict=True):
                self._answers[q.id] = (keys[q.id], answer.text, float(self.metric(answer.text, q)))
        return {q.id: self._answers[q.id][2] for q in questions}

    def _final_info(self) -> dict[str, Any]:
        assert self._episode is not None
        scores = self._scores(self._episode.questions)
        return {
            "episode_score": sum(scores.values()) / len(scores) if scores else 0.0,
            "questions": [
                {
                    "id": q.id,
                    "category": q.category,
                    "answer": self._answers[q.id][1],
                    "score": scores[q.id],
                }
                for q in self._episode.questions
            ],
            "op_counts": dict(self._op_counts),
            "invalid_actions": self._invalid_count,
        }

    # -- state -----------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The exact continuation state as JSON-serialisable data (bank, cursor, RNG, rewards)."""
        if self._episode is None or self._memory is None:
            raise RuntimeError("call reset() before get_state()")
        return {
            "version": STATE_VERSION,
            "episode_index": self._episode_index,
            "episode_kind": self.episode_kind,
            "conversation_id": self._episode.conversation.id,
            "cursor": self._cursor,
            "bank": self._memory.bank.to_dict(),
            "rng": _jsonable_rng(self.np_random.bit_generator.state),
            "potential": self._potential,
            "boundary_potential": self._boundary_potential,
            "op_counts": dict(self._op_counts),
            "invalid_count": self._invalid_count,
            "last": dict(self._last),
        }

    def set_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Continue exactly from `get_state()` output (of this or an identically built env);
        returns the observation for the current fact."""
        if state.get("version") != STATE_VERSION or state.get("episode_kind") != self.episode_kind:
            raise ValueError("state was made by another env version or episode kind")
        index = int(state["episode_index"])
        self._clear_episode()
        episode = self._make_episode(index)
        if episode.conversation.id != state["conversation_id"]:
            raise ValueError("state belongs to another dataset or split")
        memory = self._new_memory(episode.conversation)
        memory.bank = MemoryBank.from_dict(state["bank"], memory.bank.retriever)
        self._episode, self._episode_index, self._memory = episode, index, memory
        self._cursor = int(state["cursor"])
        self._potential = float(state["potential"])
        self._boundary_potential = float(state["boundary_potential"])
        self._op_counts = dict(state["op_counts"])
        self._invalid_count = int(state["invalid_count"])
        self._last = dict(state["last"])
        self.np_random.bit_generator.state = state["rng"]
        return self._observe()

    def fork(self) -> MemoryManagerEnv:
        """An independent env at exactly this state, cheaply (bank and index copied in memory)."""
        if self._memory is None:
            raise RuntimeError("call reset() before fork()")
        twin = copy.copy(self)
        twin._memory = self._memory.fork()
        twin._answers = dict(self._answers)
        twin._op_counts = dict(self._op_counts)
        twin._last = dict(self._last)
        twin._visible = list(self._visible)
        generator = np.random.Generator(type(self.np_random.bit_generator)())
        generator.bit_generator.state = self.np_random.bit_generator.state
        twin._np_random = generator
        return twin

    def __getstate__(self) -> dict[str, Any]:
        # Worker processes get configuration and the episode state, not live indexes or models.
        state = dict(self.__dict__)
        state["_pending"] = self.get_state() if self._memory is not None else None
        state.update(_memory=None, _episode=None, _cache=None, _answers={}, _window_banks={})
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pending = state.pop("_pending", None)
        self.__dict__.update(state)
        if pending is not None:
            self.set_state(pending)

    # -- rendering -------------------------------------------------------------------------

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        if self._episode is None or self._memory is None:
            return "MemoryManagerEnv: not reset\n"
        lines = [f"{self._episode.conversation.id} step {self._cursor}/{len(self._episode.facts)}"]
        if self._last:
            note = f" INVALID: {self._last['invalid']}" if self._last.get("invalid") else ""
            target = f" {self._last['entry_id']}" if self._last.get("entry_id") else ""
            lines.append(f"last fact: {self._last['fact']}")
            lines.append(f"last op: {self._last['op']}{target}{note}")
        for namespace in self._memory.namespaces():
            entries = self._memory.bank.entries(namespace)
            lines.append(f"bank[{namespace}] ({len(entries)}):")
            lines.extend(f"  {e.id}: {e.text}" for e in entries)
        return "\n".join(lines) + "\n"


def _episode(
    conversation: Conversation, facts: Sequence[Fact], questions: Sequence[Question]
) -> _Episode:
    last = max(len(facts) - 1, 0)
    arrival = []
    for q in questions:
        step = evidence_step(list(facts), q.evidence_turn_ids)
        arrival.append(last if step is None else step)
    return _Episode(conversation, tuple(facts), tuple(questions), tuple(arrival))


def _last_turn(conversation: Conversation, fact: Fact) -> str:
    order = conversation.turn_position
    return max(fact.source_turn_ids, key=lambda t: order.get(t, -1))


def action_from_decision(decision: ManagerDecision) -> dict[str, Any]:
    """The env action for an agent's decision; an unusable one (with `error`) becomes NOOP."""
    if decision.error is not None:
        return {"op": int(Op.NOOP), "target": -1, "text": ""}
    target = -1 if decision.target is None else decision.target
    return {"op": int(decision.op), "target": target, "text": decision.text or ""}


def _plain(value: Any) -> Any:
    """numpy scalars (from sampled actions) as Python values."""
    return value.item() if isinstance(value, np.generic) else value


def _jsonable_rng(state: Any) -> dict[str, Any]:
    return {
        k: (_jsonable_rng(v) if isinstance(v, dict) else int(v) if isinstance(v, np.integer) else v)
        for k, v in state.items()
    }
