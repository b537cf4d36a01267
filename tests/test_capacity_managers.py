"""Managers for banks with a capacity (fill, evict, salience, supervised, the ORACLE evidence,
and the trained ppo policy): what each keeps, that they read the bank's state through one
interface old managers need not implement, and that policy files are loaded only when they
fit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memgym.agents import ManagerDecision, RetrievedMemory, make_manager
from memgym.agents.base import BankState, SequentialManager
from memgym.agents.capacity import EvictManager, FillManager, SalienceManager
from memgym.agents.capacity_features import capacity_features, feature_names
from memgym.agents.policy import PolicyFileError, PolicyManager, load_policy, save_policy
from memgym.agents.registry import is_oracle
from memgym.agents.salience import salience_score
from memgym.agents.turn_classifier import ClassifierFileError, evidence_labels, fit
from memgym.agents.turn_classifier import load as load_classifier
from memgym.config import MemoryConfig
from memgym.data import load_dataset
from memgym.data.schema import Fact
from memgym.engine import ConversationMemory
from memgym.envs import MemoryManagerEnv
from memgym.facts import fact_stream
from memgym.memory import Op
from memgym.tokens import count_tokens
from memgym.wrappers import DiscreteOperation, FeatureObservation, KeepOrSkip

SAMPLE = load_dataset("locomo", None, "all")
CAPACITY_MANAGERS = ("fill", "evict", "salience", "supervised", "ppo")


def _fact(text: str, speaker: str = "Andrew") -> Fact:
    return Fact(
        id=f"c/{text[:8]}",
        text=text,
        speaker=speaker,
        session_id="s1",
        time=None,
        time_raw=None,
        source_turn_ids=("D1:1",),
    )


def _memory(slot: int, text: str, namespace: str = "Andrew") -> RetrievedMemory:
    return RetrievedMemory(slot, f"m{slot}", text, namespace, None, 1.0)


def _bank(free: int, capacity: int = 100, step: int = 5, n_facts: int = 10) -> BankState:
    return BankState("Andrew", 3, capacity - free, capacity, step, n_facts)


def _run(manager: Any, capacity: float = 0.25) -> list[tuple[ConversationMemory, list[Any]]]:
    config = MemoryConfig(retriever="bm25", memory_capacity=capacity)
    runs = []
    for conversation in SAMPLE.conversations:
        facts = fact_stream(conversation, "turns")
        memory = ConversationMemory(conversation, config, facts=facts)
        runs.append((memory, memory.run_manager(facts, manager)))
    return runs


@pytest.mark.parametrize("name", CAPACITY_MANAGERS)
def test_every_capacity_manager_runs_the_sample_within_capacity(name: str) -> None:
    for memory, outcomes in _run(make_manager(name)):
        assert memory.capacity is not None
        for namespace in memory.conversation.speakers:
            assert memory.bank.usage(namespace)[1] <= memory.capacity.of(namespace)
        assert any(o.op == Op.ADD and o.invalid is None for o in outcomes)
        if name != "ppo":  # the rules never try a write that does not fit; a policy may
            assert all(o.invalid is None for o in outcomes), [o.invalid for o in outcomes]


def test_fill_adds_until_full_then_noops() -> None:
    fill = FillManager()
    fact = _fact("Andrew adopted a dog named Buddy in May")
    need = count_tokens(fact.text)
    assert fill.decide_with_bank(fact, [], _bank(free=need)).op == Op.ADD
    assert fill.decide_with_bank(fact, [], _bank(free=need - 1)).op == Op.NOOP


def test_evict_replaces_the_least_informative_shown_memory_when_full() -> None:
    evict = EvictManager()
    fact = _fact("Andrew adopted a beagle named Buddy from the Portland shelter in May")
    shown = [_memory(0, "Andrew hiked Mount Hood with his sister last weekend"), _memory(1, "ok")]
    full = _bank(free=count_tokens(fact.text) - 1)  # one token short
    decision = evict.decide_with_bank(fact, shown, full)
    assert decision == ManagerDecision(Op.UPDATE, target=1, text=fact.text)
    # a fact with less information than every shown memory evicts nothing
    assert evict.decide_with_bank(_fact("oh yes ok"), shown[:1], _bank(free=0)).op == Op.NOOP


def test_salience_values_specific_statements_over_small_talk_and_paces_its_threshold() -> None:
    specific = "I adopted a beagle named Buddy from the Portland shelter on 3 May 2023"
    assert salience_score(specific, "Andrew") > salience_score("Haha, thanks! You too!")
    assert salience_score(specific, "Andrew", [specific]) < salience_score(specific, "Andrew")
    rule = SalienceManager()
    # Ahead of budget (much room, little episode left) lowers the bar; behind raises it.
    ahead = rule.threshold(_bank(free=90, step=9, n_facts=10))
    behind = rule.threshold(_bank(free=10, step=1, n_facts=10))
    assert rule.admission.threshold is not None
    assert ahead < rule.admission.threshold < behind
    assert rule.decide_with_bank(_fact("Haha, thanks!"), [], _bank(free=100)).op == Op.NOOP
    assert rule.decide_with_bank(_fact(specific), [], _bank(free=100)).op == Op.ADD


def test_supervised_ships_a_classifier_fitted_on_conv26_only() -> None:
    classifier = load_classifier()
    assert classifier.trained_on["conversations"] == ["conv-26"]
    assert classifier.trained_on["split"] == "train"
    assert classifier.trained_on["evidence_turns"] == 133
    p = classifier.probabilities(["I went to a pottery class on Friday", "lol"])
    assert 0.0 < p[1] < p[0] < 1.0


def test_the_classifier_is_scikit_learns_defaults(tmp_path: Path) -> None:
    sklearn = pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = [], []
    for conversation in SAMPLE.conversations:
        t, y = evidence_labels(conversation)
        texts += t
        labels += y
    ours = fit(texts, labels)
    x = TfidfVectorizer().fit_transform(texts)
    theirs = LogisticRegression(tol=1e-10, max_iter=10_000).fit(x, labels)
    assert sklearn is not None
    np.testing.assert_allclose(ours.probabilities(texts), theirs.predict_proba(x)[:, 1], atol=1e-5)
    ours.save(tmp_path / "c.json")
    again = load_classifier(tmp_path / "c.json")
    np.testing.assert_allclose(again.probabilities(texts), ours.probabilities(texts))
    (tmp_path / "bad.json").write_text('{"format": "memgym-turn-classifier", "version": 1}')
    with pytest.raises(ClassifierFileError, match=r"bad\.json"):
        load_classifier(tmp_path / "bad.json")


def test_evidence_is_an_oracle_that_keeps_only_evidence_turns() -> None:
    with pytest.raises(ValueError, match="ORACLE"):
        make_manager("evidence")
    conversation = SAMPLE.conversations[0]
    evidence = {t for q in conversation.questions for t in q.evidence_turn_ids}
    manager = make_manager("evidence", evidence_turn_ids=evidence)
    assert is_oracle(manager)
    config = MemoryConfig(retriever="bm25", memory_capacity=0.9)
    facts = fact_stream(conversation, "turns")
    memory = ConversationMemory(conversation, config, facts=facts)
    memory.run_manager(facts, manager)
    stored = {t for e in memory.bank.entries() for t in e.source_turn_ids}
    assert stored and stored <= evidence


def test_an_evidence_run_is_marked_oracle(tmp_path: Path) -> None:
    from memgym.cli import main

    out = tmp_path / "oracle"
    args = ["eval", "--manager", "evidence", "--answerer", "extractive", "--retriever", "bm25"]
    assert main([*args, "--fact-source", "turns", "--out", str(out), "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["oracle"] is True and results["title"].startswith("ORACLE")
    assert results["agents"]["manager"]["oracle"] is True
    assert "**ORACLE**" in (out / "leaderboard.md").read_text()


class OldManager(SequentialManager):
    """A manager written against `decide(fact, memories)` only."""

    name = "old"

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        return ManagerDecision(Op.ADD, text=fact.text)


class Recorder(SequentialManager):
    """A bank-aware manager that records what it is told."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[BankState] = []

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision:
        self.seen.append(bank)
        return ManagerDecision(Op.ADD, text=fact.text)


def test_managers_see_the_bank_state_and_old_managers_still_work() -> None:
    conversation = SAMPLE.conversations[0]
    facts = fact_stream(conversation, "turns")
    config = MemoryConfig(retriever="bm25", memory_capacity=10_000)
    old = ConversationMemory(conversation, config, facts=facts)
    assert all(o.invalid is None for o in old.run_manager(facts, OldManager()))
    recorder = Recorder()
    memory = ConversationMemory(conversation, config, facts=facts)
    memory.run_manager(facts, recorder)
    assert [b.step for b in recorder.seen] == list(range(len(facts)))
    assert {b.n_facts for b in recorder.seen} == {len(facts)}
    assert all(b.capacity == 10_000 for b in recorder.seen)
    first = recorder.seen[0]
    assert first.memories == first.tokens_used == 0 and first.tokens_free == 10_000
    last, fact = recorder.seen[-1], facts[-1]
    before = sum(count_tokens(f.text) for f in facts[:-1] if f.speaker == fact.speaker)
    assert last.namespace == fact.speaker and last.tokens_used == before


def _random_policy(
    path: Path, k: int = 10, hidden: int = 8, seed: int = 0, action: str = "replace"
) -> None:
    rng = np.random.default_rng(seed)
    n = len(feature_names(k))
    outputs = 2 if action == "keep" else 4 + k
    layers = [(rng.normal(size=(hidden, n)), rng.normal(size=hidden))]
    head = (rng.normal(size=(outputs, hidden)), rng.normal(size=outputs))
    save_policy(path, layers, head, k, action, {"note": "random, for tests"})


def test_a_policy_file_round_trips_and_the_env_wrappers_compute_the_managers_features(
    tmp_path: Path,
) -> None:
    path = tmp_path / "policy.safetensors"
    _random_policy(path)
    manager = PolicyManager(path)
    env = MemoryManagerEnv(split="all", fact_source="turns", retriever="bm25", memory_capacity=0.25)
    wrapped = DiscreteOperation(FeatureObservation(env, features="capacity"), update="replace")
    observation, _ = wrapped.reset(seed=0)
    for _ in range(8):
        fact, bank = env.current_fact, env.bank_state()
        assert fact is not None and bank is not None
        expected = capacity_features(fact, env.visible_memories, bank, 10)
        np.testing.assert_array_equal(observation, expected)
        op, slot = manager.network.act(observation)
        decision = manager.decide_with_bank(fact, env.visible_memories, bank)
        assert int(decision.op) == op and (decision.target or 0) in (slot, 0)
        observation, *_ = wrapped.step(np.array([op, slot]))


def test_a_keep_or_skip_policy_decides_as_the_wrapper_it_trained_behind(tmp_path: Path) -> None:
    path = tmp_path / "keep.safetensors"
    _random_policy(path, action="keep", seed=1)
    manager = PolicyManager(path)
    assert manager.network.groups == (2,)
    env = MemoryManagerEnv(split="all", fact_source="turns", retriever="bm25", memory_capacity=0.1)
    wrapped = KeepOrSkip(FeatureObservation(env, features="capacity"))
    observation, _ = wrapped.reset(seed=0)
    kept = set()
    while env.current_fact is not None:
        fact, bank = env.current_fact, env.bank_state()
        assert bank is not None
        (keep,) = manager.network.act(observation)
        decision = manager.decide_with_bank(fact, env.visible_memories, bank)
        observation, _, _, _, info = wrapped.step(keep)
        assert info["op"] == decision.op.name and info.get("invalid_action") is None
        kept.add(keep)
    assert kept == {0, 1}


def test_policy_files_written_before_the_keep_format_still_load(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    path = tmp_path / "old.safetensors"
    _random_policy(path)
    policy, metadata = load_policy(path)
    metadata["action"] = {"kind": "multidiscrete", "nvec": [4, 10], "update": "replace"}
    tensors = {"pi.0.weight": policy.layers[0][0], "pi.0.bias": policy.layers[0][1]}
    tensors |= {"action.weight": policy.head[0], "action.bias": policy.head[1]}
    save_file(tensors, str(path), metadata={"memgym_policy": json.dumps(metadata)})
    manager = PolicyManager(path)
    assert manager.action == "replace" and manager.network.groups == (4, 10)


def _corrupt(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.safetensors"
    if kind == "truncated":
        _random_policy(path)
        path.write_bytes(path.read_bytes()[:-40])
    elif kind == "not-safetensors":
        path.write_bytes(b"\x80\x04pickle")
    elif kind == "other-features":
        from safetensors.numpy import save_file

        _random_policy(path)
        policy, metadata = load_policy(path)
        metadata["features"]["names"] = metadata["features"]["names"][::-1]
        tensors = {"pi.0.weight": policy.layers[0][0], "pi.0.bias": policy.layers[0][1]}
        tensors |= {"action.weight": policy.head[0], "action.bias": policy.head[1]}
        save_file(tensors, str(path), metadata={"memgym_policy": json.dumps(metadata)})
    elif kind == "wrong-shape":
        rng = np.random.default_rng(1)
        n = len(feature_names(10))
        layers = [(rng.normal(size=(8, n + 1)), rng.normal(size=8))]
        save_policy(
            path, layers, (rng.normal(size=(14, 8)), rng.normal(size=14)), 10, "replace", {}
        )
    elif kind == "head-of-another-action":
        rng = np.random.default_rng(1)
        layers = [(rng.normal(size=(8, len(feature_names(10)))), rng.normal(size=8))]
        save_policy(path, layers, (rng.normal(size=(14, 8)), rng.normal(size=14)), 10, "keep", {})
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", "not a readable safetensors"),
        ("not-safetensors", "not a readable safetensors"),
        ("other-features", "another feature definition"),
        ("wrong-shape", r"layer pi.0 has shape \(8, \d+\)"),
        ("head-of-another-action", r"action head \(14, 8\), expected \(2, 8\)"),
    ],
)
def test_policy_files_that_do_not_fit_are_refused_by_name(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = _corrupt(tmp_path, kind)
    with pytest.raises(PolicyFileError, match=message) as raised:
        PolicyManager(path)
    assert str(path) in str(raised.value)
    from memgym.cli import main

    code = main(
        ["eval", "--manager", "ppo", "--policy-file", str(path), "--out", str(tmp_path / "o")]
    )
    assert code == 2 and not (tmp_path / "o" / "manifest.json").exists()


def test_the_shipped_ppo_policy_records_how_it_was_trained() -> None:
    _, metadata = load_policy()
    training = metadata["training"]
    assert training["data"].endswith("locomo_conv26.json") and training["split"] == "train"
    assert training["fact_source"] == "turns" and training["episode"] == "conversation"
    assert metadata["action"]["kind"] in ("keep", "replace")
    assert make_manager("ppo").describe()["policy_file"] == "(shipped) ppo_manager.safetensors"
