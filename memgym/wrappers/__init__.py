"""Gymnasium wrappers for memgym envs, one concern each.

- ChatObservation: observations as chat messages and a prompt (LLM policies);
- TextAction: completions as actions, parsed, with a format penalty;
- AnswerMetricReward, FormatReward, ScaleReward: reward choices;
- FeatureObservation, DiscreteOperation: numeric observations and MultiDiscrete actions for
  classic RL libraries (stable-baselines3, RLlib).
"""

from memgym.wrappers.chat_observation import ChatObservation, render_prompt
from memgym.wrappers.features import DiscreteOperation, FeatureObservation
from memgym.wrappers.reward import AnswerMetricReward, FormatReward, ScaleReward
from memgym.wrappers.text_action import TextAction

__all__ = [
    "AnswerMetricReward",
    "ChatObservation",
    "DiscreteOperation",
    "FeatureObservation",
    "FormatReward",
    "ScaleReward",
    "TextAction",
    "render_prompt",
]
