"""MemoryManagerEnv: build a memory bank fact by fact; rewarded by a frozen answerer's score."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from memgym.actions import check_action
from memgym.agents.base import AnswerAgent, BankState, MemoryManager, RetrievedMemory
from memgym.agents.registry import describe_agent, make_manager
from memgym.config import DEFAULT_ANSWER_PROMPT_TOKENS, DEFAULT_MAX_MEMORY_WORDS, MemoryConfig
from memgym.data.errata import Errata
from memgym.data.schema import Dataset, Fact, Question
from memgym.engine import ConversationMemory
from memgym.envs.banks import EpisodeBanks
from memgym.envs.common import InvalidActionError, iso, resolve_dataset, slots_observation
from memgym.envs.episodes import DEFAULT_SEGMENT, DEFAULT_WINDOW, Episode, plan_episodes
from memgym.envs.reader import make_reward_reader
from memgym.envs.render import render_manager_state
from memgym.envs.rewards import QuestionScorer, RewardTracker, Schedule
from memgym.envs.spaces import BANK_KEYS, manager_spaces
from memgym.envs.state import STATE_VERSION, Continuable, Progress, jsonable_rng, read_state
from memgym.facts import FactSource, default_fact_source, fact_source_name
from memgym.memory.bank import MemoryBank
from memgym.memory.capacity import capacity_key
from memgym.memory.persistence import bank_to_dict
from memgym.retrieval.base import Retriever

EpisodeKind = Literal["conversation", "window", "segment"]


class MemoryManagerEnv(Continuable, gym.Env[dict[str, Any], dict[str, Any]]):
    """
    ## Description

    The memory manager of Memory-R1 as an MDP. An episode walks one conversation's facts (LoCoMo's
    published observations, or every turn for LongMemEval and MSC); at each step the agent sees
    the new fact and its speaker's most similar stored memories, and chooses ADD, UPDATE (rewrite
    a shown memory), DELETE (remove one) or NOOP. A frozen answer agent's score on the
    benchmark's questions, read from the bank the policy built, is the reward.
    With `episode="window"` an episode is one of Memory-R1's training tuples
    (`memgym.envs.episodes`): a reference manager stores the facts of the `window` turns before
    a turn t and of every earlier evidence turn, the policy handles the facts of t, and the
    questions completing at t score it. Memory-R1's Algorithm 1 says 50 turns (the default),
    its text 24. With `episode="segment"` an episode is `segment_length` consecutive facts of a
    conversation, starting from the bank `window_manager` (default `salience`) built from every
    earlier fact under the same `memory_capacity`; the questions whose evidence has arrived by
    its last fact score it (for policies whose rollouts cannot hold a whole conversation).

    ## Action Space

    A `Dict`:

    | key | space | meaning |
    |---|---|---|
    | `op` | `Discrete(4)` | 0 ADD, 1 UPDATE, 2 DELETE, 3 NOOP |
    | `target` | `Discrete(observation_k)` | slot of a shown memory (UPDATE, DELETE; NOOP may) |
    | `text` | `UnicodeText(max_text_chars)` | memory text (ADD, UPDATE) |

    A completion string (Mem0-style JSON or `UPDATE 2: text`) or a `ManagerDecision` is
    accepted too. Every form goes through `memgym.actions.check_action`: an invalid action
    (unknown op, slot not shown, missing target, empty, non-UTF-8 or oversized text, a text over
    `max_memory_words` words, an unreadable string) changes nothing, costs
    `invalid_action_penalty` and is explained in `info["invalid_action"]`; with `strict=True`
    it raises `InvalidActionError`.

    With a `memory_capacity`, an ADD or UPDATE that would overflow its bank (an UPDATE counts
    its net growth) is invalid too; `info["capacity"]` then says how many tokens were free and
    how many the write needed. DELETE frees space.

    ## Observation Space

    A `Dict` of `fact` (`UnicodeText`), `speaker`, `time` (ISO 8601 or ""), `step` and
    `remaining` (`Box` int64 counters: the position in the episode) and `memories`:
    `observation_k` slots with `texts`, `speakers`, `times` (empty strings when unused) and a
    `mask` (`MultiBinary`). Slot i of the observation is the target id i of the action. With a
    `memory_capacity`, `memories` also has `tokens` (each shown memory's size) and `bank` holds
    the state of the new fact's bank: `memories`, `tokens` used, `capacity` and `free` tokens,
    and the fact's `position` among the conversation's `facts` (for segments, not the episode's).
    Text spaces accept any characters: vector envs need `AsyncVectorEnv(...,
    shared_memory=False)`.

    ## Rewards

    The frozen answer agent's score (`metric`, exact match by default) on the episode's
    questions, read from the retrieved memories that fit its prompt budget, paid by
    `reward_schedule`: `episode`, `session`, `step` or `counterfactual` (`memgym.envs.rewards`).
    The default answerer, `oracle_support`, is an ORACLE proxy (the gold counts as found when its
    words are in that context, dates included); `answerer="llm"` with `reader=` makes the reward
    a real reader's, as in Memory-R1. `info` has `reward_components` and `oracle`; the last
    step's adds `episode_score` and each question's answer and score.

    ## Starting State

    An empty bank (conversation episodes) or the reference manager's bank (window episodes), and
    the first fact. `reset(seed=s)` picks the episode with the env's RNG;
    `options={"episode_index": i}` picks the i-th of `episodes` starts, and
    `options={"conversation_id": ...}` a conversation episode.

    ## Episode End

    Terminated after the last fact. Not truncated by the env itself; `gymnasium.make` can add
    `max_episode_steps`.

    ## Arguments

    - `dataset`: "sample" (bundled offline data), "locomo", "longmemeval", "msc" or a loaded
      `Dataset`; `data`: file or folder; `split`: train (default), val, test or all.
    - `fact_source`: "dataset", "turns" or a FactExtractor (default per dataset).
    - `episode`: "conversation", "window" or "segment"; `window` (50); `segment_length` (16);
      `window_manager`, the reference manager of tuples and segments ("heuristic" for tuples,
      "salience" for segments).
    - `retriever` ("hybrid", "bm25", "dense", or a factory returning a Retriever), `embedder`,
      `dense_index`, `observation_k` (10), `answer_k` (None: as many as fit the budget; 30 per
      speaker is Memory-R1's cap), `namespace_by`, `max_text_chars` (2000),
      `max_memory_words` (40), `answer_prompt_tokens` (4096).
    - `memory_capacity`: tokens each speaker's bank may hold (int), or a share f in (0, 1) of
      that speaker's fact tokens in the conversation; None (default) is unbounded. Meant for
      whole-conversation episodes (`fact_source="turns"` makes it a choice of which turns to
      keep): window episodes start from a reference bank built without it.
    - `answerer` ("oracle_support", "extractive", "llm", or an AnswerAgent), `reader` (for
      "llm": a ChatClient or a dict such as `{"base_url", "model"}` or `{"model_path"}`),
      `reward_cache_dir` (answers shared on disk across processes), `cache_stats_in_info`
      (cumulative hits, misses and hit rate in every `info`), `metric` ("exact_match",
      "f1", "locomo_f1", "mem0_f1", "bleu1", or a callable), `reward_schedule`.
    - `invalid_action_penalty` (-0.1), `strict` (invalid actions raise; pass a Dataset loaded
      with `load_dataset(..., strict=True)` to refuse data warnings too), `include_adversarial`,
      `embedding_cache_dir`, `render_mode` ("ansi").
    - `errata`: an errata file in the LoCoMo audit's schema (questions with a wrong gold left
      out) or `load_errata(path, "correct")` (golds and evidence corrected; tuples follow).

    ## Version History

    - v0: per-question tuples, one action path, token-budgeted reader, counterfactual credit;
      `memory_capacity` (the `bank` observation and slot sizes appear only with it);
      `episode="segment"`.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}  # noqa: RUF012 (Gymnasium declares it so)

    def __init__(
        self,
        dataset: str | Dataset = "sample",
        data: str | Path | None = None,
        split: str = "train",
        *,
        fact_source: FactSource | None = None,
        episode: EpisodeKind = "conversation",
        window: int = DEFAULT_WINDOW,
        segment_length: int = DEFAULT_SEGMENT,
        window_manager: str | MemoryManager | None = None,
        retriever: str | Callable[[], Retriever] = "hybrid",
        embedder: str = "minilm",
        dense_index: Literal["exact", "hnsw"] = "exact",
        observation_k: int = 10,
        answer_k: int | None = None,
        namespace_by: Literal["speaker", "none"] = "speaker",
        max_text_chars: int = 2000,
        max_memory_words: int = DEFAULT_MAX_MEMORY_WORDS,
        answer_prompt_tokens: int = DEFAULT_ANSWER_PROMPT_TOKENS,
        memory_capacity: int | float | None = None,
        answerer: str | AnswerAgent = "oracle_support",
        reader: Any = None,
        reward_cache_dir: str | Path | None = None,
        cache_stats_in_info: bool = False,
        metric: str | Callable[[str, Question], float] = "exact_match",
        reward_schedule: Schedule = "episode",
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
        self.fact_source: FactSource = fact_source or default_fact_source(self.dataset.name)
        name = retriever if isinstance(retriever, str) else getattr(retriever, "name", "custom")
        self.config = MemoryConfig(
            retriever=name,
            embedder=embedder,
            dense_index=dense_index,
            observation_k=observation_k,
            answer_k=answer_k,
            namespace_by=namespace_by,
            max_text_chars=max_text_chars,
            max_memory_words=max_memory_words,
            answer_prompt_tokens=answer_prompt_tokens,
            memory_capacity=memory_capacity,
        )
        self.episode_kind: EpisodeKind = episode
        self.window = window
        self.segment_length = segment_length
        reference = window_manager or ("salience" if episode == "segment" else "heuristic")
        self.window_manager = make_manager(reference, max_memory_words=max_memory_words)
        self.reader = make_reward_reader(self.dataset, answerer, reader, reward_cache_dir)
        self.scorer = QuestionScorer(self.reader.answerer, self.reader.metric(metric))
        self.metric_name = self.reader.metric_name(metric)
        self.reward_schedule: Schedule = reward_schedule
        self.rewards = RewardTracker(self.scorer, reward_schedule)
        self.invalid_action_penalty = float(invalid_action_penalty)
        self.strict = strict
        self.cache_stats_in_info = cache_stats_in_info
        self.render_mode = render_mode
        self.plan = plan_episodes(
            self.dataset.conversations, self.fact_source, episode, window, segment_length
        )
        if not self.plan.episodes:
            raise ValueError(f"no {episode} episodes in {self.dataset.name} {self.dataset.split!r}")
        self.observation_space, self.action_space = manager_spaces(
            observation_k, max_text_chars, capacity=memory_capacity is not None
        )
        self.banks = EpisodeBanks(
            self.config,
            self.window_manager,
            None if isinstance(retriever, str) else retriever,
            embedding_cache_dir,
            self.plan.streams,
        )
        self._clear_episode()

    def describe(self) -> dict[str, Any]:
        """Everything that determines rewards, for result files."""
        return {
            "env": "MemoryManagerEnv-v0",
            "dataset": self.dataset.fingerprint(),
            "fact_source": fact_source_name(self.fact_source),
            "episode": self.episode_kind,
            **(
                {"window": self.window, "window_manager": describe_agent(self.window_manager)}
                if self.episode_kind == "window"
                else {}
            ),
            **(
                {
                    "segment_length": self.segment_length,
                    "reference_manager": describe_agent(self.window_manager),
                }
                if self.episode_kind == "segment"
                else {}
            ),
            "episodes": self.plan.describe(),
            "memory": self.config.describe(),
            "answerer": self.reader.describe(),
            "oracle": self.reader.oracle,
            "metric": self.metric_name,
            "reward_schedule": self.reward_schedule,
            "invalid_action_penalty": self.invalid_action_penalty,
        }

    @property
    def visible_memories(self) -> list[RetrievedMemory]:
        """The memories shown with the current fact (slot i is action target i)."""
        return list(self._visible)

    @property
    def memory(self) -> ConversationMemory | None:
        """The current episode's bank and retrieval rules (None before reset)."""
        return self._memory

    @property
    def current_fact(self) -> Fact | None:
        """The fact the next action is about (None before reset and after the last step)."""
        if self._episode is None or self._progress.cursor >= len(self._episode.facts):
            return None
        return self._episode.facts[self._progress.cursor]

    @property
    def episode_questions(self) -> tuple[Question, ...]:
        """The questions that score the current episode (empty before reset)."""
        return () if self._episode is None else self._episode.questions

    @property
    def episodes(self) -> int:
        """How many distinct starts reset can pick from."""
        return len(self.plan.episodes)

    def _clear_episode(self) -> None:
        self._episode: Episode | None = None
        self._episode_index = -1
        self._memory: ConversationMemory | None = None
        self._progress = Progress()
        self._visible: list[RetrievedMemory] = []
        self.rewards.reset()

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        super().reset(seed=seed)
        index = self.plan.select(options or {}, self.np_random)
        self._clear_episode()
        episode = self._episode = self.plan.episodes[index]
        memory = self._memory = self.banks.start(index, episode)
        self._episode_index = index
        info = {
            "episode_index": index,
            "conversation_id": episode.conversation.id,
            "window_turn": episode.window_turn,
            "n_facts": len(episode.facts),
            "n_questions": len(episode.questions),
            "bank_size": len(memory.bank),
            "oracle": self.reader.oracle,
        }
        return self.observation(), info

    def observation(self) -> dict[str, Any]:
        """The observation of the current step (what reset or the last step returned)."""
        if self._episode is None or self._memory is None:
            raise RuntimeError("call reset() before observation()")
        facts = self._episode.facts
        fact = self.current_fact
        if fact is not None:
            self._visible = self._memory.memories_for_fact(fact)
            head = {"fact": fact.text, "speaker": fact.speaker, "time": iso(fact.time)}
        else:
            self._visible = []
            head = {"fact": "", "speaker": "", "time": ""}
        capped = self._memory.capacity is not None
        observation = {
            **head,
            "step": np.array(self._progress.cursor, dtype=np.int64),
            "remaining": np.array(len(facts) - self._progress.cursor, dtype=np.int64),
            "memories": slots_observation(self._visible, self.config.observation_k, capped),
        }
        if capped:
            observation["bank"] = self._bank_observation()
        return observation

    def bank_state(self) -> BankState | None:
        """The state of the current fact's bank, as a manager reads it (None after the last
        step)."""
        fact = self.current_fact
        if fact is None or self._memory is None or self._episode is None:
            return None
        offset, total = self._episode.position
        return self._memory.bank_state(fact, offset + self._progress.cursor, total)

    def _bank_observation(self) -> dict[str, np.ndarray]:
        state = self.bank_state()
        values = (0, 0, 0, 0, 0, 0)  # after the last step there is no fact, and no bank to show
        if state is not None:
            values = (
                state.memories,
                state.tokens_used,
                state.capacity or 0,
                state.tokens_free or 0,
                state.step,
                state.n_facts,
            )
        return {k: np.array(v, dtype=np.int64) for k, v in zip(BANK_KEYS, values, strict=True)}

    def step(self, action: Any) -> tuple[dict[str, Any], float, bool, bool, dict[str, Any]]:
        episode, memory = self._episode, self._memory
        if episode is None or memory is None:
            raise RuntimeError("call reset() before step()")
        if self._progress.cursor >= len(episode.facts):
            raise RuntimeError("the episode has ended; call reset()")
        progress = self._progress
        fact = episode.facts[progress.cursor]
        decision = check_action(action, self._visible, fact, self.config)
        room = None
        if memory.capacity is not None and decision.error is None:
            room = memory.room(decision, fact, self._visible)
        if self.strict and (reason := memory.check(decision, fact, self._visible)) is not None:
            raise InvalidActionError(reason)
        step_index = self._progress.cursor
        noop_contexts = self.rewards.before_step(memory, episode, step_index)
        outcome = memory.apply(decision, fact, self._visible, step_index)
        if outcome.invalid is None:
            progress.op_counts[decision.op.name] += 1
        else:
            progress.invalid_count += 1
        progress.cursor += 1
        terminated = self._progress.cursor >= len(episode.facts)
        components = self.rewards.pay(memory, episode, step_index, noop_contexts)
        components["penalty"] = self.invalid_action_penalty if outcome.invalid else 0.0
        reward = components[self.reward_schedule] + components["penalty"]
        progress.last = {
            "fact": fact.text,
            "op": decision.op.name,
            "entry_id": outcome.entry_id,
            "invalid": outcome.invalid,
        }
        info: dict[str, Any] = {
            "step": step_index,
            "conversation_id": episode.conversation.id,
            "op": decision.op.name,
            "entry_id": outcome.entry_id,
            "invalid_action": outcome.invalid,
            "reward_components": components,
            "potential": self.rewards.potential,
            "bank_size": len(memory.bank),
            "oracle": self.reader.oracle,
        }
        if room is not None:
            info["capacity"] = {
                "namespace": room.namespace,
                "tokens_free": room.free,
                "tokens_needed": room.needed,
            }
        if self.cache_stats_in_info:  # opt-in: Gymnasium's checker wants identical infos
            info["reward_cache"] = self.reader.answerer.stats.as_dict()
        if terminated:
            info.update(self.rewards.final(memory, episode))
            info.update(op_counts=dict(progress.op_counts), invalid_actions=progress.invalid_count)
        return self.observation(), reward, terminated, False, info

    def get_state(self) -> dict[str, Any]:
        """The exact continuation state as JSON-serialisable data (bank, cursor, RNG, rewards)."""
        if self._episode is None or self._memory is None:
            raise RuntimeError("call reset() before get_state()")
        return {
            "version": STATE_VERSION,
            "episode_index": self._episode_index,
            "episode_kind": self.episode_kind,
            "conversation_id": self._episode.conversation.id,
            "bank": bank_to_dict(self._memory.bank),
            "rng": jsonable_rng(self.np_random.bit_generator.state),
            "potential": self.rewards.potential,
            "boundary_potential": self.rewards.boundary_potential,
            **self._progress.to_json(),
            **capacity_key({"memory_capacity": self.config.memory_capacity}),
        }

    def set_state(self, state: dict[str, Any]) -> dict[str, Any]:
        """Continue exactly from `get_state()` output (of this or an identically built env);
        returns the observation for the current fact. The whole state is validated first: a bad
        one raises ValueError naming the field and leaves the env as it was."""
        episodes = self.plan.episodes
        loaded = read_state(
            state,
            episode_kind=self.episode_kind,
            n_episodes=len(episodes),
            conversation_of=lambda i: episodes[i].conversation.id,
            n_facts_of=lambda i: len(episodes[i].facts),
            bit_generator=type(self.np_random.bit_generator),
            memory_capacity=self.config.memory_capacity,
        )
        episode = episodes[loaded.episode_index]
        memory = self.banks.empty(episode)
        bank = loaded.bank
        memory.bank = MemoryBank.from_state(
            bank.entries(),
            bank.log,
            bank.counter,
            memory.bank.retriever,
            self.config.max_text_chars,
        )
        self._clear_episode()
        self._episode, self._episode_index, self._memory = episode, loaded.episode_index, memory
        self._progress = loaded.progress
        self.rewards.reset(loaded.potential, loaded.boundary_potential)
        self.np_random.bit_generator.state = loaded.rng_state
        return self.observation()

    def _started(self) -> bool:
        return self._memory is not None

    def _fork_into(self, twin: MemoryManagerEnv) -> None:
        assert self._memory is not None
        twin._memory = self._memory.fork()
        twin.rewards = copy.copy(self.rewards)
        twin._progress = self._progress.copy()
        twin._visible = list(self._visible)

    def _transient(self) -> dict[str, Any]:
        return {"_memory": None, "_episode": None}

    def render(self) -> str | None:
        """The pending fact, the memories shown with it, the last operation and the bank
        (`render_mode="ansi"`); None, as Gymnasium specifies, without a render mode."""
        if self.render_mode != "ansi":
            return None
        if self._episode is None or self._memory is None:
            return "MemoryManagerEnv: not reset\n"
        where = f"step {self._progress.cursor}/{len(self._episode.facts)}"
        title = f"{self._episode.conversation.id} {where}"
        return render_manager_state(
            title, self._progress.last, self.current_fact, self._visible, self._memory
        )
