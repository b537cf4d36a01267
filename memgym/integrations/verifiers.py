"""verifiers (0.4): MemoryManagerEnv as a verifiers taskset package.

verifiers selects environments by a top-level module: `vf.resolve_env_config({"taskset":
{"id": "memgym-verifiers"}})` (or `--env.taskset.id memgym-verifiers`) imports
`memgym_verifiers`, which re-exports this module's classes: one Taskset (task i resets the env
with seed `seed_offset + i`), one Env (an episode: the env's user turns are sent to the model
as the run's user, each reply is the env's action, the summed step rewards are the trace's
reward) and one Harness (one chat completion per turn, in process, through verifiers'
interception endpoint, so verifiers records the trace). The system prompt is Memory-R1's
manager prompt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import verifiers.v1 as vf
from pydantic import Field

from memgym.agents.prompts import MANAGER_SYSTEM
from memgym.integrations.defaults import TEXT_ENV_KWARGS
from memgym.wrappers.variants import memory_manager_text


def observation_text(observation: dict[str, Any]) -> str:
    """The user turn of a MemoryManagerEnv-text-v0 observation (the system turn is the task's
    system prompt)."""
    return str(observation["messages"][-1]["content"])


class MemoryTasksetConfig(vf.TasksetConfig):  # type: ignore[misc]
    num_tasks: int = 20
    seed_offset: int = 0
    env_kwargs: dict[str, Any] = Field(default_factory=dict)


class MemoryData(vf.TaskData):  # type: ignore[misc]
    seed: int
    env_kwargs: dict[str, Any]


class MemoryTask(vf.Task[MemoryData, vf.State, vf.TaskConfig]):  # type: ignore[misc]
    """One episode of MemoryManagerEnv-text-v0."""


class MemoryTaskset(vf.Taskset[MemoryTask, MemoryTasksetConfig]):  # type: ignore[misc]
    def load(self) -> Iterator[MemoryTask]:
        for i in range(self.config.num_tasks):
            seed = self.config.seed_offset + i
            yield MemoryTask(
                MemoryData(
                    name=f"memgym#{seed}",
                    prompt=None,  # the env opens the exchange with its first observation
                    system_prompt=MANAGER_SYSTEM,
                    seed=seed,
                    env_kwargs=dict(self.config.env_kwargs),
                ),
                self.config.task,
            )


class MemoryHarness(vf.Harness[vf.HarnessConfig]):  # type: ignore[misc]
    """One chat completion per turn, in process, through the interception `endpoint` (the
    built-in `null` harness does the same through a chat program it installs with uv)."""

    APPENDS_SYSTEM_PROMPT = True
    SUPPORTS_RESUME = True
    EXECUTES_CODE = False
    NEEDS_CONTAINER = False

    async def launch(  # type: ignore[no-untyped-def]
        self, ctx, trace, runtime, endpoint, secret, mcp_urls, data, **_
    ) -> Any:
        from openai import AsyncOpenAI
        from verifiers.v1.dialects.chat import message_to_wire

        system, prompt = self.resolve_prompt(data)
        messages: list[Any] = [{"role": "system", "content": system}] if system else []
        if isinstance(prompt, str):
            messages.append({"role": "user", "content": prompt})
        else:
            messages += [message_to_wire(m) for m in prompt or []]
        async with AsyncOpenAI(base_url=endpoint, api_key=secret, max_retries=0) as client:
            await client.chat.completions.create(model=ctx.model, messages=messages)
        return vf.ProgramResult(exit_code=0, stdout="", stderr="")


class MemoryEnvConfig(vf.EnvConfig):  # type: ignore[misc]
    # One agent, the memory manager; a local subprocess runtime (no remote sandbox needed).
    manager: vf.AgentConfig = vf.AgentConfig(runtime=vf.SubprocessConfig())


class MemoryEnv(vf.Env[MemoryEnvConfig]):  # type: ignore[misc]
    async def run(self, task: MemoryTask, agents: Any) -> None:
        data = task.data
        kwargs = {**TEXT_ENV_KWARGS, **data.env_kwargs}
        env = await asyncio.to_thread(memory_manager_text, **kwargs)
        observation, info = env.reset(seed=data.seed)
        rewards: list[float] = []
        async with agents.manager.interaction(task) as interaction:
            segment = await interaction.turn(observation_text(observation))
            while not segment.terminated:
                observation, reward, terminated, truncated, info = env.step(segment.last_reply)
                rewards.append(float(reward))
                if terminated or truncated:
                    break
                segment = await interaction.turn(observation_text(observation))
        env.close()
        trace = interaction.trace
        trace.record_reward("memgym_reward", sum(rewards))
        trace.record_metric("memgym_steps", len(rewards))
        trace.record_metric("memgym_episode_score", float(info.get("episode_score") or 0.0))
        trace.info["memgym_step_rewards"] = rewards
        trace.info["memgym_conversation_id"] = info.get("conversation_id")


__all__ = ["MemoryEnv", "MemoryHarness", "MemoryTaskset"]
