"""A memory capacity: each speaker's bank holds at most so many tokens. A write that would
overflow is an invalid action that changes nothing and says how many tokens were free and
needed; DELETE frees space; the observation, the state, forks, results and the configuration
fingerprint all carry the capacity, and without one nothing changes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from gymnasium.utils.env_checker import check_env

from memgym.agents import make_manager
from memgym.agents.capacity_features import capacity_features, feature_names
from memgym.config import MemoryConfig
from memgym.data import load_dataset
from memgym.envs import MemoryManagerEnv
from memgym.facts import fact_stream
from memgym.leaderboard.config import EvalConfig
from memgym.memory.capacity import bank_capacity, check_capacity
from memgym.tokens import count_tokens


def _env(capacity: int | float | None = 0.25, **kwargs: Any) -> MemoryManagerEnv:
    return MemoryManagerEnv(
        split="all",
        fact_source="turns",
        retriever="bm25",
        memory_capacity=capacity,
        **kwargs,
    )


def _fill(env: MemoryManagerEnv) -> dict[str, Any]:
    """ADD facts until one is refused for want of room; the refused step's info."""
    observation, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    while True:
        observation, _, done, _, info = env.step(
            {"op": 0, "target": 0, "text": observation["fact"]}
        )
        if info["invalid_action"] or done:
            return info


@pytest.mark.parametrize("bad", [0, -3, 0.0, 1.0, 1.5, True, "0.25", float("nan")])
def test_capacity_must_be_positive_tokens_or_a_share(bad: Any) -> None:
    with pytest.raises(ValueError, match="memory_capacity"):
        check_capacity(bad)
    with pytest.raises(ValueError, match="memory_capacity"):
        MemoryConfig(memory_capacity=bad)


def test_a_share_is_of_each_speakers_own_fact_tokens() -> None:
    conversation = load_dataset("locomo", None, "all").conversations[0]
    facts = fact_stream(conversation, "turns")
    capacity = bank_capacity(0.5, facts, lambda f: f.speaker)
    assert capacity is not None
    for speaker in conversation.speakers:
        total = sum(count_tokens(f.text) for f in facts if f.speaker == speaker)
        assert capacity.of(speaker) == int(0.5 * total)
    assert bank_capacity(300, facts, lambda f: f.speaker).of("anyone") == 300  # type: ignore[union-attr]
    assert bank_capacity(None, facts, lambda f: f.speaker) is None


def test_an_overflowing_add_changes_nothing_and_says_what_was_free_and_needed() -> None:
    env = _env(40)
    info = _fill(env)
    assert info["invalid_action"] is not None and "tokens" in info["invalid_action"]
    room = info["capacity"]
    assert room["tokens_needed"] > room["tokens_free"] >= 0
    assert info["reward_components"]["penalty"] == env.invalid_action_penalty
    memory = env.memory
    assert memory is not None
    used = memory.bank.usage(room["namespace"])[1]
    assert used <= 40 and used + room["tokens_needed"] > 40


def test_delete_frees_space_and_an_update_counts_its_net_growth() -> None:
    env = _env(40)
    _fill(env)
    observation = env.observation()
    while not observation["memories"]["mask"][0]:  # a fact whose bank holds a memory
        observation, *_ = env.step("NONE")
    state, memory = env.bank_state(), env.memory
    assert state is not None and memory is not None
    shown = int(observation["memories"]["tokens"][0])
    _, _, _, _, info = env.step({"op": 2, "target": 0, "text": ""})
    assert info["invalid_action"] is None
    assert info["capacity"]["tokens_free"] == state.tokens_free
    assert memory.bank.usage(state.namespace)[1] == state.tokens_used - shown
    observation = env.observation()
    while not observation["memories"]["mask"][0]:
        observation, *_ = env.step("NONE")
    state = env.bank_state()
    assert state is not None
    # an UPDATE that shrinks a memory always fits, however full the bank
    text = observation["memories"]["texts"][0]
    word = text.split()[0]
    _, _, _, _, info = env.step({"op": 1, "target": 0, "text": word})
    assert info["invalid_action"] is None
    growth = count_tokens(word) - count_tokens(text)
    assert info["capacity"]["tokens_needed"] == growth
    assert memory.bank.usage(state.namespace)[1] == state.tokens_used + growth


def test_the_observation_shows_room_bank_size_position_and_memory_sizes() -> None:
    env = _env(0.25)
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    assert set(observation["bank"]) == {
        "memories",
        "tokens",
        "capacity",
        "free",
        "position",
        "facts",
    }
    assert observation["bank"]["free"] == observation["bank"]["capacity"] > 0
    for _ in range(3):
        observation, *_ = env.step({"op": 0, "target": 0, "text": observation["fact"]})
    bank = observation["bank"]
    assert bank["tokens"] + bank["free"] == bank["capacity"]
    mask = observation["memories"]["mask"].astype(bool)
    sizes = observation["memories"]["tokens"]
    texts = observation["memories"]["texts"]
    assert all(sizes[i] == count_tokens(texts[i]) for i in range(len(texts)) if mask[i])
    assert int(observation["step"]) == 3


def test_without_a_capacity_the_observation_and_behaviour_are_unchanged() -> None:
    env = _env(None)
    observation, _ = env.reset(seed=0)
    assert "bank" not in observation and "tokens" not in observation["memories"]
    _, _, _, _, info = env.step({"op": 0, "target": 0, "text": observation["fact"]})
    assert "capacity" not in info
    assert "memory_capacity" not in env.get_state()
    assert "memory_capacity" not in env.describe()["memory"]


def test_state_and_fork_round_trips_carry_the_capacity() -> None:
    env = _env(0.25)
    _fill(env)
    state = env.get_state()
    assert state["memory_capacity"] == 0.25
    twin = _env(0.25)
    twin.reset(seed=1)
    twin.set_state(json.loads(json.dumps(state)))
    fork = env.fork()
    for other in (twin, fork):
        assert other.bank_state() == env.bank_state()
    action = {"op": 0, "target": 0, "text": env.observation()["fact"]}
    expected = env.step(action)
    for other in (twin, fork):
        got = other.step(action)
        assert got[1] == expected[1] and got[4]["capacity"] == expected[4]["capacity"]
    with pytest.raises(ValueError, match="field 'memory_capacity'"):
        _env(0.1).set_state(copy.deepcopy(state))
    with pytest.raises(ValueError, match="field 'memory_capacity'"):
        _env(None).set_state(copy.deepcopy(state))


def test_strict_envs_raise_on_overflow() -> None:
    from memgym.envs.common import InvalidActionError

    env = _env(40, strict=True)
    observation, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    with pytest.raises(InvalidActionError, match="tokens"):
        for _ in range(50):
            observation, *_ = env.step({"op": 0, "target": 0, "text": observation["fact"]})


def test_the_fingerprint_without_a_capacity_is_unchanged() -> None:
    # The fingerprint of a default run as computed before capacities existed.
    assert EvalConfig().fingerprint("abc") == EvalConfig(memory=MemoryConfig()).fingerprint("abc")
    plain = EvalConfig().to_dict()
    assert "memory_capacity" in plain["memory"]  # recorded, as None
    capped = EvalConfig(memory=MemoryConfig(memory_capacity=0.25))
    assert capped.fingerprint("abc") != EvalConfig().fingerprint("abc")
    assert EvalConfig().fingerprint("abc") == PRE_CAPACITY_FINGERPRINT


# EvalConfig().fingerprint("abc") on main before memory_capacity and policy_file existed.
PRE_CAPACITY_FINGERPRINT = "b83737f713a513c1"


def test_capacity_applies_in_the_leaderboard_and_is_recorded(tmp_path: Path) -> None:
    from memgym.cli import main

    out = tmp_path / "run"
    code = main(
        [
            "eval",
            "--manager",
            "fill",
            "--answerer",
            "oracle_support",
            "--retriever",
            "bm25",
            "--fact-source",
            "turns",
            "--memory-capacity",
            "0.25",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["memory"]["memory_capacity"] == 0.25
    assert results["retrieval"]["memory_capacity"] == 0.25
    assert "each bank holds at most 0.25" in (out / "leaderboard.md").read_text()
    # The same manager through the env gives every question the same score.
    leaderboard = {r["question_id"]: r["scores"]["exact_match"] for r in results["questions"]}
    env = _env(0.25, observation_k=10)
    manager = make_manager("fill")
    for index in range(env.episodes):
        env.reset(seed=0, options={"episode_index": index})
        info: dict[str, Any] = {}
        while env.current_fact is not None:
            fact, bank, memory = env.current_fact, env.bank_state(), env.memory
            assert bank is not None and memory is not None
            decision = memory.decide(manager, fact, env.visible_memories, bank.step, bank.n_facts)
            info = env.step(decision)[4]
        for question in info["questions"]:
            assert leaderboard[question["id"]] == question["score"]


def test_the_command_line_refuses_a_capacity_that_is_neither_tokens_nor_a_share(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from memgym.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["eval", "--memory-capacity", "1.5", "--out", str(tmp_path / "x")])
    assert exited.value.code == 2
    assert "memory_capacity" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_the_text_and_feature_variants_carry_the_capacity() -> None:
    import gymnasium as gym
    import numpy as np

    kwargs = {"split": "all", "fact_source": "turns", "retriever": "bm25", "memory_capacity": 0.25}
    text = gym.make("MemoryManagerEnv-text-v0", **kwargs)
    observation, _ = text.reset(seed=0)
    add = '{"memory": [{"id": "new", "text": "Tom skis", "event": "ADD"}]}'
    while "[0] (" not in observation["prompt"]:  # until a stored memory is shown
        observation, *_ = text.step(add)
    prompt = observation["prompt"]
    assert "3 of 23 tokens used, 20 free" in prompt
    assert f"Tom skis ({count_tokens('Tom skis')} tokens)" in prompt
    features = gym.make("MemoryManagerEnv-features-v0", **kwargs)
    vector, _ = features.reset(seed=0)
    base = features.unwrapped
    assert isinstance(base, MemoryManagerEnv)
    assert vector.shape == (len(feature_names(10)),)
    fact, bank = base.current_fact, base.bank_state()
    assert fact is not None and bank is not None
    np.testing.assert_array_equal(vector, capacity_features(fact, base.visible_memories, bank, 10))


def test_a_written_capacity_is_whole_tokens_or_a_share() -> None:
    from memgym.memory.capacity import parse_capacity

    assert parse_capacity("300") == 300 and isinstance(parse_capacity(" 300 "), int)
    assert parse_capacity("0.25") == 0.25
    for bad in ("²", "1.5", "0", "-3", "nan", "abc", "9" * 5000 + ".5"):
        with pytest.raises(ValueError):
            parse_capacity(bad)
