"""Wrappers for classic RL (stable-baselines3, RLlib): numeric observations, discrete actions."""

from __future__ import annotations

import math
import re
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from memgym.agents.base import ManagerDecision
from memgym.agents.capacity_features import (
    capacity_features,
    discrete_decision,
    feature_names,
    keep_decision,
)
from memgym.envs.memory_manager import MemoryManagerEnv
from memgym.memory.operations import Op
from memgym.metrics.text import content_stems, overlap
from memgym.retrieval.embedders import HashingEmbedder


def memory_manager_env(env: gym.Env[Any, Any]) -> MemoryManagerEnv:
    """The MemoryManagerEnv under `env`'s wrappers; TypeError for any other env."""
    unwrapped = env.unwrapped
    if not isinstance(unwrapped, MemoryManagerEnv):
        raise TypeError(f"this wrapper needs MemoryManagerEnv, got {type(unwrapped).__name__}")
    return unwrapped


_NEGATION = re.compile(r"\b(no longer|not|never|quit|stopped|left|anymore|decided against)\b", re.I)
PER_SLOT = 6
GLOBAL = 5


FEATURE_SETS = ("similarity", "capacity")


class FeatureObservation(gym.ObservationWrapper[np.ndarray, Any, dict[str, Any]]):
    """A fixed-size float32 vector instead of text, for MemoryManagerEnv.

    `features="similarity"` (default): per memory slot (k of them), filled, word overlap with
    the fact (stemmed content words), cosine of hashed word vectors, the slot's rank, length
    ratio, and whether the fact is a negation; then bank size (log), fact length (log),
    fraction of the episode done, number of filled slots / k, and a constant 1.

    `features="capacity"`: `memgym.agents.capacity_features` for the first `k` slots (default:
    the env's `observation_k`), what the `ppo` manager computes from a fact, its memories and
    its bank: the salience rule's signals and the bank's room (for `memory_capacity`).
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        embedder_dim: int = 256,
        *,
        features: str = "similarity",
        k: int | None = None,
    ) -> None:
        super().__init__(env)
        if features not in FEATURE_SETS:
            raise ValueError(f"features must be one of {FEATURE_SETS}, got {features!r}")
        self.manager_env = memory_manager_env(env)
        self.features = features
        self.k = k or self.manager_env.config.observation_k
        self.embedder = HashingEmbedder(embedder_dim)
        if features == "capacity":
            self.size = len(feature_names(self.k))
            self.observation_space = spaces.Box(-2.0, 2.0, shape=(self.size,), dtype=np.float32)
        else:
            self.size = self.k * PER_SLOT + GLOBAL
            self.observation_space = spaces.Box(-1.0, 1e3, shape=(self.size,), dtype=np.float32)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
        if self.features == "capacity":
            return self._capacity_features()
        fact = observation["fact"]
        slots = observation["memories"]
        filled = [bool(m) for m in slots["mask"]]
        texts = [t for t, f in zip(slots["texts"], filled, strict=True) if f]
        vectors = self.embedder.embed([fact, *texts])
        fact_words = content_stems(fact)
        negation = 1.0 if _NEGATION.search(fact) else 0.0
        out = np.zeros(self.size, dtype=np.float32)
        for i, text in enumerate(texts):
            row = out[i * PER_SLOT : (i + 1) * PER_SLOT]
            row[0] = 1.0
            row[1] = overlap(fact_words, content_stems(text))
            row[2] = float(vectors[0] @ vectors[i + 1])
            row[3] = 1.0 - i / max(self.k, 1)
            row[4] = min(len(text) / max(len(fact), 1), 10.0) / 10.0
            row[5] = negation
        memory = self.manager_env.memory
        bank = 0 if memory is None else len(memory.bank)
        total = int(observation["step"]) + int(observation["remaining"])
        out[-GLOBAL:] = [
            math.log1p(bank),
            math.log1p(len(fact)),
            int(observation["step"]) / max(total, 1),
            len(texts) / self.k,
            1.0,
        ]
        return out

    def _capacity_features(self) -> np.ndarray:
        env = self.manager_env
        fact, bank = env.current_fact, env.bank_state()
        if fact is None or bank is None:  # after the last step: nothing to decide
            return np.zeros(self.size, dtype=np.float32)
        return capacity_features(fact, env.visible_memories, bank, self.k)


class DiscreteOperation(gym.ActionWrapper[Any, np.ndarray, dict[str, Any]]):
    """`MultiDiscrete([4, k])` (operation, slot) for MemoryManagerEnv, texts filled in by
    `memgym.agents.capacity_features.discrete_decision`: ADD stores the fact; UPDATE stores a
    merge of the slot's memory and the fact within the env's `max_memory_words` (else ADDs the
    fact), or with `update="replace"` writes the fact over the slot's memory (eviction, for
    banks with a capacity); DELETE and NOOP need no text. `k` defaults to `observation_k`."""

    def __init__(
        self, env: gym.Env[Any, Any], *, update: str = "merge", k: int | None = None
    ) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self.k = k or self.manager_env.config.observation_k
        self.update = update
        self.action_space = spaces.MultiDiscrete([4, self.k])

    def action(self, action: np.ndarray) -> dict[str, Any]:
        op, slot = (int(x) for x in np.asarray(action).reshape(-1)[:2])
        fact = self.manager_env.current_fact
        if fact is None:
            return {"op": op, "target": slot, "text": ""}
        decision = discrete_decision(
            op,
            slot,
            fact,
            self.manager_env.visible_memories,
            self.update,
            self.manager_env.config.max_memory_words,
        )
        return {"op": int(decision.op), "target": slot, "text": decision.text or ""}


class KeepOrSkip(gym.ActionWrapper[Any, Any, Any]):
    """`Discrete(2)` admission for MemoryManagerEnv under a capacity: 0 skips the fact (NOOP),
    1 keeps it, by `memgym.agents.capacity_features.keep_decision` (ADD when it fits, else
    written over the least salient shown memory of its bank that makes room)."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self.action_space = spaces.Discrete(2)

    def action(self, action: Any) -> ManagerDecision:
        """The decision itself: the env takes a ManagerDecision as an action."""
        env = self.manager_env
        fact, bank = env.current_fact, env.bank_state()
        if fact is None or bank is None:
            return ManagerDecision(Op.NOOP)
        keep = bool(int(np.asarray(action).reshape(-1)[0]))
        return keep_decision(keep, fact, env.visible_memories, bank)
