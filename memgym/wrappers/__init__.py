"""Gymnasium wrappers for memgym envs, one concern each.

- ChatObservation: observations as chat messages and a prompt (LLM policies);
- TextAction: completions as actions, parsed, with a format penalty;
- AnswerMetricReward, FormatReward, ScaleReward: reward choices; SupportShapedReward: a dense
  ORACLE training signal for banks under a capacity;
- FeatureObservation, DiscreteOperation, KeepOrSkip: numeric observations and discrete actions
  for classic RL libraries (stable-baselines3, RLlib).
"""

from memgym.wrappers.chat_observation import ChatObservation, render_prompt
from memgym.wrappers.features import DiscreteOperation, FeatureObservation, KeepOrSkip
from memgym.wrappers.reward import (
    AnswerMetricReward,
    FormatReward,
    ScaleReward,
    SupportShapedReward,
)
from memgym.wrappers.text_action import TextAction

__all__ = [
    "AnswerMetricReward",
    "ChatObservation",
    "DiscreteOperation",
    "FeatureObservation",
    "FormatReward",
    "KeepOrSkip",
    "ScaleReward",
    "SupportShapedReward",
    "TextAction",
    "render_prompt",
]
