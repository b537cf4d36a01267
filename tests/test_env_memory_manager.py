"""MemoryManagerEnv: the Gymnasium contract, exact rewards, schedules, forks, fuzzed actions."""

from __future__ import annotations

import json
import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memgym  # noqa: F401  (registers the ids)
from memgym.envs import InvalidActionError, MemoryManagerEnv

FAST = {"retriever": "bm25", "split": "all"}
ADD, UPDATE, DELETE, NOOP = 0, 1, 2, 3


def _env(**kwargs: Any) -> MemoryManagerEnv:
    return MemoryManagerEnv(**{**FAST, **kwargs})


def _scripted(obs: dict[str, Any], step: int) -> dict[str, Any]:
    """ADD most facts, UPDATE slot 0 every fourth step, DELETE every seventh, NOOP every fifth."""
    has_memory = bool(obs["memories"]["mask"][0])
    if step % 7 == 6 and has_memory:
        return {"op": DELETE, "target": 0, "text": ""}
    if step % 4 == 3 and has_memory:
        return {"op": UPDATE, "target": 0, "text": obs["memories"]["texts"][0] + "; " + obs["fact"]}
    if step % 5 == 4:
        return {"op": NOOP, "target": 0, "text": ""}
    return {"op": ADD, "target": 0, "text": obs["fact"]}


def _run(
    env: MemoryManagerEnv, conversation_id: str = "sample-1"
) -> tuple[list[float], dict[str, Any]]:
    obs, _ = env.reset(seed=0, options={"conversation_id": conversation_id})
    rewards, step, info = [], 0, {}
    terminated = False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(_scripted(obs, step))
        assert truncated is False
        rewards.append(reward)
        step += 1
    return rewards, info


@pytest.mark.parametrize(
    "kwargs",
    [
        FAST,
        {
            "retriever": "hybrid",
            "embedder": "hashing",
            "reward_schedule": "step",
            "observation_k": 3,
        },
        {
            "retriever": "dense",
            "embedder": "hashing-64",
            "reward_schedule": "session",
            "namespace_by": "none",
        },
        {
            "retriever": "bm25",
            "episode": "window",
            "window": 6,
            "answerer": "extractive",
            "metric": "f1",
        },
        {"retriever": "bm25", "dataset": "longmemeval", "split": "test"},
        {"retriever": "bm25", "split": "all", "reward_schedule": "counterfactual"},
        {"retriever": "bm25", "dataset": "msc", "split": "test", "fact_source": "turns"},
    ],
)
def test_check_env_passes(kwargs: dict[str, Any]) -> None:
    check_env(MemoryManagerEnv(**kwargs), skip_render_check=True)


@pytest.mark.slow
def test_default_configuration_is_offline_and_passes_check_env() -> None:
    env = gym.make("MemoryManagerEnv-v0")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.unwrapped.describe()["memory"]["embedder"] == "minilm"


def test_full_scripted_episode_gives_the_exact_bank_and_rewards() -> None:
    # Traced by hand: q0 (Buddy's breed) and q1 (Priya's job) are supported from steps 0 and 1;
    # the dogs question (q2) once Scout is added at step 5, lost when step 6 deletes that memory,
    # regained when step 11 merges Scout into m6; q7 (the business) from step 10.
    env = _env(reward_schedule="step")
    rewards, info = _run(env)
    ninth = 1 / 9
    assert rewards == pytest.approx(
        [ninth, ninth, 0, 0, 0, ninth, -ninth, 0, 0, 0, ninth, ninth, 0]
    )
    assert info["op_counts"] == {"ADD": 7, "UPDATE": 3, "DELETE": 1, "NOOP": 2}
    bank = env._memory.bank  # type: ignore[union-attr]
    assert [(e.id, e.namespace) for e in bank] == [
        ("m1", "Andrew"),
        ("m2", "Priya"),
        ("m3", "Priya"),
        ("m5", "Priya"),
        ("m6", "Andrew"),
        ("m7", "Priya"),
    ]
    assert bank.get("m1").text == (
        "Andrew adopted a golden retriever named Buddy.; Andrew lives in Denver and works at a bakery on Pine Street."
    )
    assert bank.get("m6").text == (
        "Andrew quit the bakery and started a woodworking business making dog beds.; "
        "Andrew takes Buddy and Scout hiking in the Flatirons every weekend."
    )
    assert info["episode_score"] == pytest.approx(4 / 9)
    assert [q["score"] for q in info["questions"]] == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert info["questions"][2]["answer"] == "Buddy, Scout"


@pytest.mark.parametrize("conversation_id", ["sample-1", "sample-2", "sample-3", "sample-4"])
def test_all_schedules_sum_to_the_same_episode_total(conversation_id: str) -> None:
    totals = {}
    for schedule in ("episode", "session", "step"):
        rewards, info = _run(_env(reward_schedule=schedule), conversation_id)
        totals[schedule] = sum(rewards)
        assert totals[schedule] == pytest.approx(info["episode_score"], abs=1e-9)
    assert totals["session"] == pytest.approx(totals["episode"], abs=1e-9)
    assert totals["step"] == pytest.approx(totals["episode"], abs=1e-9)


def test_step_schedule_pays_when_evidence_arrives() -> None:
    rewards, _ = _run(_env(reward_schedule="step"))
    assert sum(1 for r in rewards if r != 0) >= 2
    session_rewards, _ = _run(_env(reward_schedule="session"))
    assert sum(1 for r in session_rewards if r != 0) <= 3  # three sessions


def test_same_seed_and_actions_give_byte_identical_trajectories() -> None:
    def trajectory() -> bytes:
        env = _env(reward_schedule="step")
        obs, info = env.reset(seed=123)
        out = [pickle.dumps((obs, info))]
        for step in range(len(env._episode.facts)):  # type: ignore[union-attr]
            result = env.step(_scripted(obs, step))
            obs = result[0]
            out.append(pickle.dumps(result))
        return b"".join(out)

    assert trajectory() == trajectory()


def test_fork_continues_exactly_and_independently() -> None:
    env = _env(reward_schedule="step")
    obs, _ = env.reset(seed=0, options={"conversation_id": "sample-3"})
    for step in range(5):
        obs, *_ = env.step(_scripted(obs, step))
    twin = env.fork()
    original, forked = [], []
    twin_obs = obs
    for step in range(5, 13):
        obs, reward, *_ = env.step(_scripted(obs, step))
        original.append(reward)
        twin_obs, twin_reward, *_ = twin.step(_scripted(twin_obs, step))
        forked.append(twin_reward)
    assert forked == original
    # a fork takes different actions without touching its parent
    parent = _env(reward_schedule="step")
    obs, _ = parent.reset(seed=0, options={"conversation_id": "sample-3"})
    child = parent.fork()
    child.step({"op": ADD, "target": 0, "text": "completely different"})
    assert len(parent._memory.bank) == 0  # type: ignore[union-attr]


def test_get_state_is_json_and_set_state_continues_exactly() -> None:
    env = _env(reward_schedule="session")
    obs, _ = env.reset(seed=0, options={"conversation_id": "sample-2"})
    for step in range(4):
        obs, *_ = env.step(_scripted(obs, step))
    state = json.loads(json.dumps(env.get_state()))
    expected = []
    for step in range(4, 13):
        obs, reward, *_ = env.step(_scripted(obs, step))
        expected.append(reward)
    other = _env(reward_schedule="session")
    obs = other.set_state(state)
    replay = []
    for step in range(4, 13):
        obs, reward, *_ = other.step(_scripted(obs, step))
        replay.append(reward)
    assert replay == expected


def test_grpo_group_scores_candidates_from_one_state() -> None:
    env = _env(reward_schedule="step")
    obs, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    candidates = [
        {"op": ADD, "target": 0, "text": obs["fact"]},
        {"op": NOOP, "target": 0, "text": ""},
        {"op": ADD, "target": 0, "text": "irrelevant note"},
        {"op": UPDATE, "target": 0, "text": "x"},
    ]
    infos = [env.fork().step(c)[4] for c in candidates]
    assert [i["invalid_action"] is not None for i in infos] == [False, False, False, True]
    assert len(env._memory.bank) == 0  # type: ignore[union-attr]


def test_pickled_env_resumes_mid_episode() -> None:
    env = _env()
    obs, _ = env.reset(seed=0)
    env.step({"op": ADD, "target": 0, "text": obs["fact"]})
    clone = pickle.loads(pickle.dumps(env))
    assert [e.text for e in clone._memory.bank] == [e.text for e in env._memory.bank]  # type: ignore[union-attr]
    assert clone.step({"op": NOOP, "target": 0, "text": ""})[4]["step"] == 1


def test_invalid_actions_never_crash_and_are_explained() -> None:
    env = _env(invalid_action_penalty=-0.5)
    _obs, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    cases = [
        ({"op": UPDATE, "target": 0, "text": "x"}, "needs a target slot, but no memory is shown"),
        ({"op": 9, "target": 0, "text": "x"}, "unknown op 9"),
        ({"op": ADD, "target": 0, "text": ""}, "ADD needs a non-empty text"),
        ({"op": ADD, "target": 0, "text": "x" * 2001}, "over the limit of 2000"),
        ({"op": ADD, "target": 0, "text": "word " * 60}, "60 words, over the limit of 40"),
        ({"op": ADD, "target": 0, "text": b"\xff\xfe"}, "not valid UTF-8"),
        ({"op": ADD, "target": 0, "text": "bad \udcff"}, "not valid UTF-8"),
        ({"op": DELETE, "text": ""}, "DELETE needs a target slot"),
        ("please add it", "no JSON operation"),
        (42, "action must be a dict or str"),
    ]
    for action, reason in cases:
        before = env.get_state()
        _, reward, terminated, _, info = env.step(action)
        assert reason in info["invalid_action"] and reward == -0.5 and not terminated
        assert env.get_state()["bank"] == before["bank"]
        env.set_state(before)
    strict = _env(strict=True)
    strict.reset(seed=0)
    with pytest.raises(InvalidActionError, match="needs a non-empty text"):
        strict.step({"op": ADD, "target": 0, "text": "  "})


def test_string_actions_in_mem0_json_and_compact_form() -> None:
    env = _env()
    env.reset(seed=0, options={"conversation_id": "sample-1"})
    _, _, _, _, info = env.step(
        '{"memory": [{"id": "new", "text": "Andrew has a dog", "event": "ADD"}]}'
    )
    assert info["op"] == "ADD" and info["invalid_action"] is None
    assert env.step("ADD: Priya is a nurse")[4]["op"] == "ADD"
    info = env.step("NONE")[4]
    assert info["op"] == "NOOP"


_any_action = st.fixed_dictionaries(
    {
        "op": st.one_of(
            st.integers(-3, 8), st.sampled_from(["ADD", "update", "NONE", "bogus"]), st.none()
        ),
        "target": st.one_of(
            st.integers(-5, 50), st.none(), st.just("2"), st.floats(allow_nan=True)
        ),
        "text": st.one_of(
            st.text(max_size=50), st.binary(max_size=20), st.none(), st.just("y" * 20_000)
        ),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_any_action, st.text(max_size=80)), min_size=1, max_size=20))
def test_fuzzed_actions_never_raise(actions: list[Any]) -> None:
    env = _env(reward_schedule="step")
    env.reset(seed=0)
    for action in actions:
        _, reward, terminated, _, info = env.step(action)
        assert np.isfinite(reward) and isinstance(info["invalid_action"], (str, type(None)))
        if terminated:
            env.reset(seed=1)


def test_sampled_actions_from_the_action_space_never_raise() -> None:
    env = _env(observation_k=4)
    env.action_space.seed(0)
    env.reset(seed=0)
    for _ in range(60):
        *_, terminated, _, _ = env.step(env.action_space.sample())
        if terminated:
            env.reset()


def test_window_episodes_prebuild_the_bank_and_score_linked_questions() -> None:
    env = _env(episode="window", window=8, reward_schedule="episode")
    assert env.episodes > 3
    obs, info = env.reset(seed=0, options={"window_index": 2})
    assert info["window_turn"] is not None and info["bank_size"] > 0 and info["n_questions"] >= 1
    terminated = False
    while not terminated:
        obs, _reward, terminated, _, info = env.step({"op": ADD, "target": 0, "text": obs["fact"]})
    assert 0.0 <= info["episode_score"] <= 1.0
    by_episode = env.reset(seed=0, options={"episode_index": 2})[1]
    assert by_episode == env.reset(seed=0, options={"window_index": 2})[1]
    conversations = _env()
    assert conversations.reset(options={"episode_index": 1})[1]["conversation_id"] == "sample-2"
    with pytest.raises(ValueError, match=r"episode_index must be in 0\.\.3"):
        conversations.reset(options={"episode_index": 4})
    again = _env(episode="window", window=8)
    assert (
        again.reset(seed=0, options={"window_index": 2})[1]
        == env.reset(seed=0, options={"window_index": 2})[1]
    )


def test_make_with_time_limit_and_module_prefixed_id() -> None:
    env = gym.make("memgym:MemoryManagerEnv-v0", max_episode_steps=3, retriever="bm25")
    env.reset(seed=0)
    truncated = False
    for _ in range(3):
        *_, terminated, truncated, _ = env.step({"op": NOOP, "target": 0, "text": ""})
    assert truncated and not terminated


def test_vector_envs_and_grpo_groups_of_identical_starts() -> None:
    fns = [lambda: MemoryManagerEnv(retriever="bm25") for _ in range(2)]
    sync = gym.vector.SyncVectorEnv(fns)
    obs, _ = sync.reset(seed=[7, 7])
    assert obs["fact"][0] == obs["fact"][1]
    sync.close()
    vec = gym.vector.AsyncVectorEnv(fns, shared_memory=False)
    try:
        obs, infos = vec.reset(seed=[7, 7])
        assert obs["fact"][0] == obs["fact"][1]
        actions = {
            "op": np.array([ADD, NOOP]),
            "target": np.array([0, 0]),
            "text": (obs["fact"][0], ""),
        }
        obs, _rewards, _terminated, _truncated, infos = vec.step(actions)
        assert list(infos["op"]) == ["ADD", "NOOP"]
    finally:
        vec.close()


def test_render_ansi_shows_bank_and_last_operation() -> None:
    env = _env(render_mode="ansi")
    obs, _ = env.reset(seed=0, options={"conversation_id": "sample-1"})
    env.step({"op": ADD, "target": 0, "text": obs["fact"]})
    text = env.render()
    assert text is not None and "last op: ADD m1" in text and "bank[Andrew] (1):" in text


def test_embeddings_are_cached_on_disk_and_reused_without_embedding(tmp_path: Any) -> None:
    env = MemoryManagerEnv(
        retriever="hybrid", embedder="hashing-48", embedding_cache_dir=tmp_path, split="all"
    )
    env.reset(seed=0, options={"conversation_id": "sample-2"})
    folder = tmp_path / "hashing-48"
    assert list(folder.glob("shard-*.json")) and list(folder.glob("shard-*.npy"))
    from memgym.retrieval import EmbeddingCache, HashingEmbedder

    class Refusing(HashingEmbedder):
        def embed(self, texts: Any) -> Any:
            raise AssertionError(f"re-embedded {list(texts)[:1]}")

    cache = EmbeddingCache(Refusing(48), tmp_path)
    conversation = env.dataset.conversation_by_id["sample-2"]
    texts = [f.text for f in conversation.facts] + [q.text for q in conversation.questions]
    assert cache.vectors(texts).shape == (len(texts), 48)
