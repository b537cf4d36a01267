"""Each trainer adapter driven by the real library, making the calls it makes; the rewards it
sees equal the env's for the same actions."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fake_llm_server import ServerState, fake_llm_server
from trainer_support import (
    ENV_KWARGS,
    forcing_bias,
    reference_rollout,
    scripted_completion,
    scripted_model,
    tool_call,
)

from memgym.envs import MemoryManagerEnv
from memgym.integrations.groups import group_starts, text_group_starts
from memgym.integrations.tiny_model import smoke_grpo_config, tiny_chat_model, tiny_tokenizer


def test_grpo_groups_start_identically_and_score_each_action_as_the_env_does() -> None:
    env = MemoryManagerEnv(**ENV_KWARGS, reward_schedule="step")
    group = group_starts(env, 4, seed=3, options={"conversation_id": "sample-1"})
    first = [json.dumps(obs, default=repr) for _, obs in group]
    assert len(set(first)) == 1
    fact = group[0][0].current_fact
    assert fact is not None
    actions = [
        {"op": 0, "target": -1, "text": fact.text},
        {"op": 3, "target": -1, "text": ""},
        {"op": 1, "target": 0, "text": "x"},  # invalid: no memory is shown
        "ADD: something else",
    ]
    for (member, _), action in zip(group, actions, strict=True):
        reference = MemoryManagerEnv(**ENV_KWARGS, reward_schedule="step")
        reference.reset(seed=3, options={"conversation_id": "sample-1"})
        assert member.step(action)[1] == reference.step(action)[1]
    texts = text_group_starts(env, 3, seed=3, options={"conversation_id": "sample-1"})
    assert len({t[1]["prompt"] for t in texts}) == 1


def test_trl_grpo_trainer_runs_two_steps_with_the_environment_factory(tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    from memgym.integrations.trl import INSTRUCTIONS, MemoryToolEnvironment, episode_rows

    rows = episode_rows(retriever="bm25")[:1]
    first = MemoryToolEnvironment().reset(**rows[0])
    fact = first.split(">\n", 2)[-1].split("\n</new_fact>")[0]
    corpus = [INSTRUCTIONS, first, tool_call("add_memory", {"text": fact})]
    model = tiny_chat_model(tmp_path / "model", corpus)
    tokenizer = AutoTokenizer.from_pretrained(model)
    replies = [tool_call("add_memory", {"text": fact}), tool_call("keep_memory", {})]
    trainer = GRPOTrainer(
        model=model,
        args=smoke_grpo_config(
            str(tmp_path / "out"),
            max_completion_length=128,
            gradient_checkpointing=False,
            seed=1,
            generation_kwargs={"sequence_bias": forcing_bias(tokenizer, replies)},
        ),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        environment_factory=MemoryToolEnvironment,
    )
    seen: list[tuple[list[float], list[float], list[list[str]]]] = []
    calculate = trainer._calculate_rewards

    def recording(inputs: Any, prompts: Any, completions: Any, ids: Any) -> Any:
        rewards = calculate(inputs, prompts, completions, ids)
        column = trainer.reward_func_names.index("MemoryToolEnvironment")
        calls = [
            [
                t["function"]["name"]
                for m in c
                if m.get("role") == "assistant"
                for t in m.get("tool_calls") or []
            ]
            for c in completions
        ]
        seen.append(
            ([e.get_reward() for e in trainer.environments], rewards[:, column].tolist(), calls)
        )
        return rewards

    trainer._calculate_rewards = recording  # type: ignore[method-assign]
    trainer.train()
    assert trainer.state.global_step == 2
    logs = [h for h in trainer.state.log_history if "reward" in h]
    for (env_rewards, trl_rewards, calls), log in zip(seen, logs, strict=True):
        assert all(c and c[0] in ("add_memory", "keep_memory") for c in calls)
        assert trl_rewards == pytest.approx(env_rewards)  # TRL stores float32
        mean = sum(env_rewards) / len(env_rewards)
        assert log["rewards/MemoryToolEnvironment/mean"] == pytest.approx(mean)


def test_verifiers_runs_episodes_of_the_taskset_with_the_envs_rewards() -> None:
    import verifiers.v1 as vf

    os.environ["MEMGYM_FAKE_KEY"] = "x"
    config = vf.resolve_env_config(
        {
            "taskset": {
                "id": "memgym-verifiers",
                "num_tasks": 2,
                "env_kwargs": {**ENV_KWARGS, "reward_schedule": "step"},
            }
        }
    )
    env = vf.load_environment(config)

    async def run(url: str) -> list[Any]:
        context = vf.ModelContext(
            model="fake", client=vf.EvalClientConfig(base_url=url, api_key_var="MEMGYM_FAKE_KEY")
        )
        async with env.serving():
            return [await env.run_episode(task, context) for task in env.taskset]

    with fake_llm_server(ServerState(reply=scripted_model)) as url:
        episodes = asyncio.run(run(url))
    for seed, episode in enumerate(episodes):
        assert episode.ok, episode.errors
        (trace,) = episode.traces
        expected = reference_rollout(seed, reward_schedule="step")
        assert trace.info["memgym_step_rewards"] == pytest.approx(expected, abs=1e-9)
        assert trace.reward == pytest.approx(sum(expected), abs=1e-9)


def test_openenv_serves_the_env_to_its_own_client() -> None:
    import uvicorn

    from memgym.integrations.openenv import MemoryAction, MemoryEnvClient, create_memory_app

    app = create_memory_app(**ENV_KWARGS, reward_schedule="step")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        for seed in (0, 1):
            rewards = []
            with MemoryEnvClient(base_url=f"http://127.0.0.1:{port}").sync() as client:
                result = client.reset(seed=seed)
                while not result.done:
                    action = scripted_completion(result.observation.messages[-1]["content"])
                    result = client.step(MemoryAction(completion=action))
                    rewards.append(result.reward)
                assert client.state().step_count == len(rewards)
            assert rewards == pytest.approx(reference_rollout(seed, reward_schedule="step"))
    finally:
        server.should_exit = True
        thread.join(10)


def test_skyrl_gym_makes_and_steps_the_env_like_skyrls_generator() -> None:
    import skyrl_gym

    from memgym.integrations.skyrl import ENV_ID, dataset_rows

    for row in dataset_rows(2):
        extras = {
            **row,
            "env_kwargs": {**ENV_KWARGS, "reward_schedule": "step"},
            "max_turns": 10_000,
        }
        extras.pop("options")
        env = skyrl_gym.make(row["env_class"], env_config={}, extras=extras)
        chat, _ = env.init(row["prompt"])
        rewards, done = [], False
        while not done:
            reply = scripted_completion(chat[-1]["content"])
            output = env.step(reply)
            rewards.append(output["reward"])
            chat += [{"role": "assistant", "content": reply}, *output["observations"]]
            done = output["done"]
        assert rewards == pytest.approx(reference_rollout(row["seed"], reward_schedule="step"))
        assert env.get_metrics()["steps"] == len(rewards)
    assert ENV_ID in skyrl_gym.registry


def test_gem_makes_vectorises_and_spawns_at_the_same_state() -> None:
    import gem

    from memgym.integrations.gem import ENV_ID

    env = gem.make(ENV_ID, **ENV_KWARGS, reward_schedule="step", observation="user")
    text, info = env.reset(seed=0)
    assert info["prefix"].startswith("You maintain a long-term memory bank")
    rewards, done = [], False
    twin = None
    while not done:
        if twin is None and len(rewards) == 3:
            twin = env.spawn(same_state=True)
            assert twin.current_text() == text
        text, reward, terminated, truncated, _ = env.step(scripted_completion(text))
        rewards.append(reward)
        done = terminated or truncated
    assert rewards == pytest.approx(reference_rollout(0, reward_schedule="step"))
    assert twin is not None
    _, twin_reward, *_ = twin.step(scripted_completion(twin.current_text()))
    assert twin_reward == pytest.approx(rewards[3])
    vec = gem.make_vec([ENV_ID] * 2, seed=5, **ENV_KWARGS)
    observations, _ = vec.reset()
    assert len(observations) == 2


def test_verl_loads_the_reward_function_and_runs_the_memory_tools(tmp_path: Path) -> None:
    import numpy as np
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.experimental.agent_loop.tool_parser import ToolParser
    from verl.tools.tool_registry import initialize_tools_from_config
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager.naive import NaiveRewardManager

    import memgym.integrations.verl as memgym_verl
    from memgym.integrations.reward_function import MemoryReward
    from memgym.integrations.trl import MemoryToolEnvironment, episode_rows

    env_kwargs = {"retriever": "bm25"}
    row = next(
        r for r in memgym_verl.verl_rows(**env_kwargs) if "Buddy" in r["prompt"][1]["content"]
    )
    fact = (
        row["prompt"][1]["content"]
        .split("<new_fact")[1]
        .split(">\n", 1)[1]
        .split("\n</new_fact>")[0]
    )
    completions = [f"ADD: {fact}", "NONE"]
    expected = [
        MemoryReward(**env_kwargs).score(c, row["extra_info"]["state"]) for c in completions
    ]
    assert expected[0] > expected[1]
    # 1. the custom reward function, loaded from its file as verl's trainer loads it
    config = OmegaConf.create(
        {
            "reward": {
                "custom_reward_function": {
                    "path": memgym_verl.__file__,
                    "name": "compute_score",
                    "reward_kwargs": {},
                }
            }
        }
    )
    score = get_custom_reward_fn(config)
    assert [
        score(
            data_source="memgym",
            solution_str=c,
            ground_truth="",
            extra_info=dict(row["extra_info"]),
        )
        for c in completions
    ] == expected
    # 2. verl's reward manager over a tokenised batch
    tokenizer = tiny_tokenizer([row["prompt"][1]["content"], *completions])
    prompt = tokenizer(row["prompt"][1]["content"][-200:])["input_ids"]
    responses = [tokenizer(c)["input_ids"] for c in completions]
    width = max(map(len, responses))
    pad = tokenizer.pad_token_id
    batch = DataProto.from_dict(
        tensors={
            "prompts": torch.tensor([prompt] * 2),
            "responses": torch.tensor([r + [pad] * (width - len(r)) for r in responses]),
            "attention_mask": torch.tensor(
                [[1] * len(prompt) + [1] * len(r) + [0] * (width - len(r)) for r in responses]
            ),
        },
        non_tensors={
            "data_source": np.array(["memgym"] * 2, dtype=object),
            "reward_model": np.array([row["reward_model"]] * 2, dtype=object),
            "extra_info": np.array([dict(row["extra_info"]) for _ in completions], dtype=object),
        },
    )
    rewards = NaiveRewardManager(tokenizer=tokenizer, num_examine=0, compute_score=score)(batch)
    assert rewards.sum(-1).tolist() == pytest.approx(expected)
    # 3. the multi-turn tools from the shipped tool config, called as ToolAgentLoop calls them
    config_path = Path(__file__).resolve().parents[1] / "examples" / "verl" / "memgym_tools.yaml"
    tools = {t.name: t for t in initialize_tools_from_config(str(config_path))}
    assert set(tools) == {"add_memory", "update_memory", "delete_memory", "keep_memory"}
    first = episode_rows(**env_kwargs)[0]
    create = {"episode_index": first["episode_index"], "env_kwargs": first["env_kwargs"]}
    reference = MemoryToolEnvironment()
    opening = reference.reset(**create)
    first_fact = opening.split(">\n", 2)[-1].split("\n</new_fact>")[0]
    reference_reply = reference.add_memory(first_fact)

    class AgentData:  # the two fields of verl's AgentData that the tool reads
        def __init__(self) -> None:
            self.request_id = "trajectory-1"
            self.tools_kwargs = {name: {"create_kwargs": create} for name in tools}

    generated = tool_call("add_memory", {"text": first_fact})
    parser = ToolParser.get_tool_parser("hermes", tokenizer)
    _, calls = asyncio.run(parser.extract_tool_calls(tokenizer(generated)["input_ids"]))

    async def call() -> tuple[Any, float, dict[str, Any]]:
        tool = tools[calls[0].name]
        instance, _ = await tool.create(create_kwargs=create)
        try:
            return await tool.execute(
                instance, json.loads(calls[0].arguments), agent_data=AgentData()
            )
        finally:
            await tool.release(instance)

    response, step_reward, metrics = asyncio.run(call())
    assert response.text == reference_reply
    assert step_reward == pytest.approx(reference.get_reward())
    assert metrics["episode_reward"] == pytest.approx(reference.get_reward())
    memgym_verl.release_trajectory("trajectory-1")
