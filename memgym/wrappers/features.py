"""Wrappers for classic RL (stable-baselines3, RLlib): numeric observations, discrete actions."""

from __future__ import annotations

import math
import re
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from memgym.actions import words
from memgym.agents.offline import merge_texts
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


class FeatureObservation(gym.ObservationWrapper[np.ndarray, Any, dict[str, Any]]):
    """A fixed-size float32 vector instead of text, for MemoryManagerEnv.

    Per memory slot (k of them): filled, word overlap with the fact (stemmed content words),
    cosine of hashed word vectors, the slot's rank, length ratio, and whether the fact is a
    negation. Then: bank size (log), fact length (log), fraction of the episode done, number of
    filled slots / k, and a constant 1.
    """

    def __init__(self, env: gym.Env[Any, Any], embedder_dim: int = 256) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self.k = self.manager_env.config.observation_k
        self.embedder = HashingEmbedder(embedder_dim)
        self.size = self.k * PER_SLOT + GLOBAL
        self.observation_space = spaces.Box(-1.0, 1e3, shape=(self.size,), dtype=np.float32)

    def observation(self, observation: dict[str, Any]) -> np.ndarray:
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


class DiscreteOperation(gym.ActionWrapper[Any, np.ndarray, dict[str, Any]]):
    """`MultiDiscrete([4, k])` (operation, slot) for MemoryManagerEnv, texts filled in:
    ADD stores the fact; UPDATE stores a merge of the slot's memory and the fact (both kept)
    when it fits the env's `max_memory_words`, and otherwise ADDs the fact (memories stay
    short); DELETE and NOOP need no text."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self.k = self.manager_env.config.observation_k
        self.action_space = spaces.MultiDiscrete([4, self.k])

    def action(self, action: np.ndarray) -> dict[str, Any]:
        op, slot = (int(x) for x in np.asarray(action).reshape(-1)[:2])
        fact = self.manager_env.current_fact
        visible = self.manager_env.visible_memories
        text = ""
        if op == Op.ADD and fact is not None:
            text = fact.text
        elif op == Op.UPDATE and fact is not None and slot < len(visible):
            text = merge_texts(visible[slot].text, fact.text)
            if words(text) > self.manager_env.config.max_memory_words:
                op, text = Op.ADD, fact.text
        return {"op": op, "target": slot, "text": text}
