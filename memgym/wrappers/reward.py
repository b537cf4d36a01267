"""Reward wrappers, one concern each: the metric that scores answers, a format bonus, a scale,
a dense ORACLE training signal for banks under a capacity."""

from __future__ import annotations

from datetime import datetime
from typing import Any, SupportsFloat

import gymnasium as gym

from memgym.agents.offline import supports
from memgym.data.schema import Question
from memgym.wrappers.features import memory_manager_env


class AnswerMetricReward(gym.Wrapper[Any, Any, Any, Any]):
    """AnswerAgentEnv: reward with another metric of `info["scores"]` (exact_match, f1,
    locomo_f1, mem0_f1, bleu1, judge). MemoryManagerEnv takes `metric=` at construction, since
    its rewards are computed inside the episode."""

    def __init__(self, env: gym.Env[Any, Any], metric: str) -> None:
        super().__init__(env)
        self.metric = metric

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, _, terminated, truncated, info = self.env.step(action)
        scores = info.get("scores")
        if not isinstance(scores, dict) or self.metric not in scores:
            raise KeyError(f"metric {self.metric!r} is not in info['scores'] (AnswerAgentEnv only)")
        return observation, float(scores[self.metric]), terminated, truncated, info


class FormatReward(gym.Wrapper[Any, Any, Any, Any]):
    """Add `bonus` to every step whose action was well formed (no `invalid_action`, no parse
    error), the format reward of LLM RL recipes."""

    def __init__(self, env: gym.Env[Any, Any], bonus: float = 0.1) -> None:
        super().__init__(env)
        self.bonus = float(bonus)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        parse_error = (info.get("parse") or {}).get("error")
        well_formed = info.get("invalid_action") is None and parse_error is None
        bonus = self.bonus if well_formed else 0.0
        info.setdefault("reward_components", {})["format_bonus"] = bonus
        return observation, float(reward) + bonus, terminated, truncated, info


class ScaleReward(gym.RewardWrapper[Any, Any]):
    """Multiply rewards by `scale` (e.g. to put episode scores on a trainer's usual range)."""

    def __init__(self, env: gym.Env[Any, Any], scale: float) -> None:
        super().__init__(env)
        self.scale = float(scale)

    def reward(self, reward: SupportsFloat) -> SupportsFloat:
        return float(reward) * self.scale


class SupportShapedReward(gym.Wrapper[Any, Any, Any, Any]):
    """ORACLE, for training: MemoryManagerEnv's reward becomes the change, at every step, in the
    share of the episode's questions whose gold answer one memory of the bank supports
    (`oracle_support`'s test on the whole bank, without retrieval or the reader's budget).

    A potential-based signal: it sums to that share at the episode's end and pays an ADD, an
    eviction or a DELETE on the step that makes it, where the env's schedules pay a whole-bank
    score late or at a reader call per step. It reads the golds, like `oracle_support`; the
    env's own reward is kept in `info["env_reward"]`."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.manager_env = memory_manager_env(env)
        self._supported: dict[tuple[str, datetime | None], frozenset[int]] = {}
        self._questions: tuple[Question, ...] = ()
        self.potential = 0.0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        observation, info = self.env.reset(**kwargs)
        questions = self.manager_env.episode_questions
        if questions is not self._questions:  # support sets index this episode's questions
            self._questions, self._supported = questions, {}
        self.potential = self._potential()
        return observation, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        changed = info.get("op") != "NOOP" and info.get("invalid_action") is None
        potential = self._potential() if changed else self.potential
        shaped, self.potential = potential - self.potential, potential
        info["env_reward"] = float(reward)
        return observation, shaped, terminated, truncated, info

    def _potential(self) -> float:
        questions, memory = self._questions, self.manager_env.memory
        if not questions or memory is None:
            return 0.0
        covered: set[int] = set()
        for entry in memory.bank:
            key = (entry.text, entry.updated_at)
            if key not in self._supported:
                self._supported[key] = frozenset(
                    i for i, q in enumerate(questions) if supports(q.answers, *key)
                )
            covered |= self._supported[key]
        return len(covered) / len(questions)
