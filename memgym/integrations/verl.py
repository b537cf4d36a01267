"""verl (Memory-R1's own trainer): a custom reward function and multi-turn memory tools.

Two ways to train a memory manager with verl, both using memgym's env as the reward:
- single-turn, "dataset + reward function": rows from `verl_rows` (one decision each, with the
  serialised env state before it in `extra_info`); verl's reward manager calls
  `compute_score`, which restores the state, applies the completion and lets the reference
  manager finish the episode (`memgym.integrations.reward_function`). Config:
  `reward.custom_reward_function.path=<memgym>/integrations/verl.py`,
  `reward.custom_reward_function.name=compute_score`.
- multi-turn tools: `MemoryTool` behind verl's tool config (see examples/verl/memgym_tools.yaml);
  verl's ToolAgentLoop calls create -> execute -> release around every tool call and shares one
  tool object among concurrent trajectories, so each trajectory's env is kept under its
  `request_id`; each call's step reward is the change of the episode's reward, and
  `release_trajectory` drops the env when a trajectory ends.

verl's trainer itself needs a vLLM, SGLang or TensorRT-LLM rollout backend (a GPU); the
reward function and the tools run anywhere.
"""

from __future__ import annotations

from typing import Any

from verl.tools.base_tool import BaseTool
from verl.tools.schemas import OpenAIFunctionToolSchema, ToolResponse

from memgym.integrations.reward_function import state_rows, verl_compute_score
from memgym.integrations.trl import MemoryToolEnvironment

compute_score = verl_compute_score
DATA_SOURCE = "memgym"
_TRAJECTORIES: dict[str, MemoryToolEnvironment] = {}


def verl_rows(**env_kwargs: Any) -> list[dict[str, Any]]:
    """Rows in verl's RL dataset layout (write them to parquet): the manager prompt, and the
    env state and configuration that `compute_score` restores."""
    return [
        {
            "data_source": DATA_SOURCE,
            "prompt": row["prompt"],
            "reward_model": {"style": "rule", "ground_truth": ""},
            "extra_info": {"state": row["state"], "env_kwargs": env_kwargs},
        }
        for row in state_rows(**env_kwargs)
    ]


class MemoryTool(BaseTool):  # type: ignore[misc]
    """One memory operation (the tool's name picks it: add_memory, update_memory,
    delete_memory, keep_memory) on the env of the calling trajectory."""

    def __init__(self, config: dict[str, Any], tool_schema: OpenAIFunctionToolSchema) -> None:
        super().__init__(config, tool_schema)

    async def execute(
        self, instance_id: str, parameters: dict[str, Any], **kwargs: Any
    ) -> tuple[ToolResponse, float, dict[str, Any]]:
        agent_data = kwargs.get("agent_data")
        key = str(getattr(agent_data, "request_id", instance_id))
        env = _TRAJECTORIES.get(key)
        if env is None:
            tools_kwargs = getattr(agent_data, "tools_kwargs", {}) or {}
            create = tools_kwargs.get(self.name, {}).get("create_kwargs", {})
            env = _TRAJECTORIES[key] = MemoryToolEnvironment()
            env.reset(**create)
        before = env.get_reward()
        text = getattr(env, self.name)(**parameters)
        reward = env.get_reward()
        return ToolResponse(text=text), reward - before, {"episode_reward": reward}


def release_trajectory(request_id: str) -> None:
    """Forget a finished trajectory's env."""
    _TRAJECTORIES.pop(request_id, None)
