"""Reward wrappers, one concern each: the metric that scores answers, a format bonus, a scale."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym


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
