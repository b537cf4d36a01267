"""AnswerAgentEnv: one question per episode, 30 memories per speaker, answers scored; the same
contract as MemoryManagerEnv (invalid actions, strict, fork, JSON state, determinism)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import memgym  # noqa: F401
from memgym.envs import AnswerAgentEnv, InvalidActionError


def _env(**kwargs: object) -> AnswerAgentEnv:
    return AnswerAgentEnv(**{"retriever": "bm25", "split": "all", **kwargs})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"retriever": "hybrid", "embedder": "hashing", "answer_k": 5, "metric": "f1"},
        {"manager": "add_all", "namespace_by": "none", "dataset": "longmemeval", "split": "test"},
        {"dataset": "msc", "metric": "mem0_f1", "split": "test"},
    ],
)
def test_check_env_passes(kwargs: dict[str, object]) -> None:
    check_env(_env(**kwargs), skip_render_check=True)


def test_observation_has_30_slots_per_speaker_and_one_step_episodes() -> None:
    env = _env()
    obs, info = env.reset(seed=0, options={"question_id": "sample-1/q0"})
    assert obs["question"] == "What kind of dog is Buddy?"
    assert obs["time"] == "2023-06-02T19:45:00"
    assert len(obs["memories"]["texts"]) == 60
    speakers = {
        s for s, m in zip(obs["memories"]["speakers"], obs["memories"]["mask"], strict=True) if m
    }
    assert speakers == {"Andrew", "Priya"}
    assert info == {"question_id": "sample-1/q0", "conversation_id": "sample-1", "category": 4}
    obs, reward, terminated, truncated, info = env.step(
        "I think [0] and [2] matter.\n**Answer:** a golden retriever"
    )
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["answer"] == "a golden retriever" and info["selected"] == [0, 2]
    assert info["scores"]["exact_match"] == 1.0 and info["scores"]["f1"] == 1.0
    with pytest.raises(RuntimeError, match="reset"):
        env.step("again")


def test_metric_choice_changes_the_reward() -> None:
    env = _env(metric="f1")
    env.reset(seed=0, options={"question_id": "sample-1/q0"})
    _, reward, *_, info = env.step("golden retriever puppy")
    assert reward == pytest.approx(0.8) and info["scores"]["exact_match"] == 0.0


def test_judge_metric_uses_the_client_and_records_failures() -> None:
    env = _env(metric="judge", judge_client=lambda messages: '{"label": "CORRECT"}')
    env.reset(seed=0)
    _, reward, *_, info = env.step("whatever")
    assert reward == 1.0 and info["judge"] == {"correct": True, "error": None}
    broken = _env(metric="judge", judge_client=lambda messages: "no idea")
    broken.reset(seed=0)
    _, reward, *_, info = broken.step("whatever")
    assert reward == 0.0 and info["judge"]["error"] == "unreadable verdict"
    with pytest.raises(ValueError, match="judge_client"):
        _env(metric="judge")


def test_seeded_sampling_is_reproducible_and_bank_is_built_once() -> None:
    a, b = _env(), _env()
    ids_a = [a.reset(seed=s)[1]["question_id"] for s in range(5)]
    ids_b = [b.reset(seed=s)[1]["question_id"] for s in range(5)]
    assert ids_a == ids_b and len(set(ids_a)) > 1
    assert len(a._memories) == len({i.split("/")[0] for i in ids_a})


@pytest.mark.parametrize("question_id", ["nope", ["sample-1/q0"], 7])
def test_reset_to_an_unknown_question_is_a_value_error(question_id: object) -> None:
    with pytest.raises(ValueError, match="unknown question_id"):
        _env().reset(seed=0, options={"question_id": question_id})


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (123, "action must be a str, got int"),
        (b"\xff\xfe", "action is not valid UTF-8"),
        ("x" * 2001, "action has 2001 characters, over 2000"),
    ],
)
def test_invalid_actions_cost_the_penalty_and_are_explained(action: object, reason: str) -> None:
    env = _env(invalid_action_penalty=-0.25)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(action)  # type: ignore[arg-type]
    assert (reward, terminated, info["invalid_action"]) == (-0.25, True, reason)
    assert info["reward_components"] == {"score": 0.0, "penalty": -0.25}
    strict = _env(strict=True)
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match=reason[:20]):
        strict.step(action)  # type: ignore[arg-type]


def test_fork_and_json_state_continue_exactly() -> None:
    env = _env()
    observation, _ = env.reset(seed=2)
    state = json.loads(json.dumps(env.get_state()))
    twin = env.fork()
    _, reward, *_, info = env.step("**Answer:** Buddy")
    assert twin.step("**Answer:** Buddy")[1] == reward
    other = _env()
    restored = other.set_state(state)
    assert pickle.dumps(restored) == pickle.dumps(observation)
    assert other.step("**Answer:** Buddy")[4]["scores"] == info["scores"]
    assert other.reset()[1] == env.reset()[1]  # the RNG continued from the same state


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 7}, "version"),
        ({"question_id": "nope"}, "question_id"),
        ({"done": "yes"}, "done"),
        ({"rng": {"bit_generator": "PCG64", "state": 5}}, "rng"),
        ({"last": []}, "last"),
    ],
)
def test_set_state_refuses_a_bad_state_and_leaves_the_env_unchanged(
    change: dict[str, object], field: str
) -> None:
    env = _env()
    env.reset(seed=1)
    before = env.get_state()
    with pytest.raises(ValueError, match=field):
        env.set_state({**before, **change})
    assert env.get_state() == before


def test_make_render_and_pickle() -> None:
    env = gym.make("AnswerAgentEnv-v0", retriever="bm25", render_mode="ansi", split="all")
    env.reset(seed=0, options={"question_id": "sample-2/q1"})
    env.step("**Answer:** Pixel")
    text = env.render()
    assert "Q (sample-2/q1)" in text and "reward 1.000" in text
    clone = pickle.loads(pickle.dumps(env.unwrapped))
    assert clone.reset(seed=3)[1] == env.unwrapped.reset(seed=3)[1]


def test_same_seed_and_actions_give_byte_identical_results() -> None:
    def run() -> bytes:
        env = _env()
        out = []
        for seed in range(4):
            out.append(pickle.dumps(env.reset(seed=seed)))
            out.append(pickle.dumps(env.step("[0] **Answer:** Buddy")))
        return b"".join(out)

    assert run() == run()


def test_a_bank_built_once_leaves_its_embeddings_on_disk_for_the_next_env(tmp_path: Path) -> None:
    from memgym.data import load_dataset
    from memgym.retrieval.embedders import make_embedder
    from memgym.retrieval.embedding_cache import EmbeddingCache

    env = AnswerAgentEnv(retriever="hybrid", embedding_cache_dir=tmp_path)
    env.reset(seed=0, options={"question_id": "sample-1/q0"})
    reopened = EmbeddingCache(make_embedder("minilm"), tmp_path)
    conversation = load_dataset("locomo").conversation_by_id["sample-1"]
    assert all(f.text in reopened for f in conversation.facts)
