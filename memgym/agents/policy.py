"""A trained policy network as a memory manager (`ppo`), stored without pickle.

A policy file is safetensors: the weights of a tanh MLP (`pi.<i>.weight`, `pi.<i>.bias`) and
its action head (`action.weight`, `action.bias`), with JSON metadata (`memgym_policy`) holding
the feature definition it was trained on (`memgym.agents.capacity_features`), the action format
and how it was trained. Action formats: `keep` (logits of skip and keep, as `KeepOrSkip`) and
`replace` or `merge` (logits of an operation, then of a slot, as `DiscreteOperation` with that
`update`). Loading checks
all of it: a file of another feature definition, with shapes that do not chain, or truncated
is refused with `PolicyFileError` naming the file. `examples/train_sb3_manager.py` writes such
files from stable-baselines3's PPO; the one shipped as `ppo` is the policy that example trains.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from memgym.agents.base import BankState, ManagerDecision, RetrievedMemory, SequentialManager
from memgym.agents.capacity_features import (
    UPDATES,
    capacity_features,
    discrete_decision,
    feature_definition,
    keep_decision,
)
from memgym.agents.weights import read_weights
from memgym.data.schema import Fact
from memgym.memory.operations import Op

FORMAT = "memgym-policy"
FORMAT_VERSION = 1
SHIPPED = "ppo_manager.safetensors"
N_OPS = len(Op)
ACTIONS: tuple[str, ...] = ("keep", *UPDATES)


def action_groups(action: str, k: int) -> tuple[int, ...]:
    """The sizes of the head's logit groups for an action format: (2,) for `keep`, (4, k) for
    an operation and a slot."""
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, got {action!r}")
    return (2,) if action == "keep" else (N_OPS, k)


class PolicyFileError(ValueError):
    """A policy file that cannot be used: names the file and what does not fit."""


class PolicyNetwork:
    """A tanh MLP and a head of logit groups (a MultiDiscrete action), applied with numpy
    (greedy actions)."""

    def __init__(
        self,
        layers: Sequence[tuple[np.ndarray, np.ndarray]],
        head: tuple[Any, Any],
        groups: Sequence[int],
    ) -> None:
        self.layers = [(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in layers]
        self.head = (np.asarray(head[0], np.float32), np.asarray(head[1], np.float32))
        self.groups = tuple(groups)

    def act(self, features: np.ndarray) -> tuple[int, ...]:
        """The most likely choice of each group: (operation, slot), or (keep,)."""
        x = np.asarray(features, np.float32)
        for weight, bias in self.layers:
            x = np.tanh(weight @ x + bias)
        logits = self.head[0] @ x + self.head[1]
        bounds = np.cumsum((0, *self.groups))
        return tuple(int(np.argmax(logits[a:b])) for a, b in pairwise(bounds))


def save_policy(
    path: str | Path,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    head: tuple[np.ndarray, np.ndarray],
    k: int,
    action: str,
    training: Mapping[str, Any],
) -> None:
    """Write a policy file for `k` memory slots and the action format `action` (see the
    module docstring)."""
    from safetensors.numpy import save_file

    tensors = {}
    for i, (weight, bias) in enumerate(layers):
        tensors[f"pi.{i}.weight"] = np.ascontiguousarray(weight, np.float32)
        tensors[f"pi.{i}.bias"] = np.ascontiguousarray(bias, np.float32)
    tensors["action.weight"] = np.ascontiguousarray(head[0], np.float32)
    tensors["action.bias"] = np.ascontiguousarray(head[1], np.float32)
    metadata = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "features": feature_definition(k),
        "action": {"kind": action, "nvec": list(action_groups(action, k))},
        "activation": "tanh",
        "training": dict(training),
    }
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    save_file(tensors, str(tmp), metadata={"memgym_policy": json.dumps(metadata)})
    tmp.replace(target)


def load_policy(path: str | Path | None = None) -> tuple[PolicyNetwork, dict[str, Any]]:
    """The network and metadata of a policy file (the shipped `ppo` policy by default)."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    name, raw = read_weights(path, SHIPPED, PolicyFileError)
    try:
        tensors = load(raw)
        metadata = _metadata(raw)
    except (SafetensorError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise PolicyFileError(f"{name}: not a readable safetensors policy file ({exc})") from exc
    if metadata.get("format") != FORMAT or metadata.get("version") != FORMAT_VERSION:
        raise PolicyFileError(f"{name}: not a {FORMAT} v{FORMAT_VERSION} file")
    action = metadata.get("action")
    features = metadata.get("features")
    if not isinstance(action, dict) or not isinstance(features, dict):
        raise PolicyFileError(f"{name}: metadata lacks 'action' or 'features'")
    k = features.get("k")
    if not isinstance(k, int) or k < 1 or features != feature_definition(k):
        raise PolicyFileError(
            f"{name}: trained on another feature definition ({features.get('name')!r} "
            f"v{features.get('version')!r}); this memgym computes {_current(k)}"
        )
    kind = action.get("kind")
    if kind == "multidiscrete":  # files written before the `keep` format name the update apart
        kind = action.get("update")
        action = {"kind": kind, "nvec": action.get("nvec")}
        metadata["action"] = action
    if kind not in ACTIONS or action.get("nvec") != list(action_groups(kind, k)):
        raise PolicyFileError(
            f"{name}: action {action!r} is none of {ACTIONS} with {k} memory slots"
        )
    return _network(name, tensors, len(features["names"]), action_groups(kind, k)), metadata


def _current(k: object) -> str:
    size = k if isinstance(k, int) and k > 0 else 5
    definition = feature_definition(size)
    return f"{definition['name']!r} v{definition['version']}"


def _metadata(raw: bytes) -> dict[str, Any]:
    header_size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_size].decode("utf-8"))
    text = header.get("__metadata__", {}).get("memgym_policy")
    if not isinstance(text, str):
        raise ValueError("no memgym_policy metadata")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("memgym_policy metadata is not an object")
    return data


def _network(
    name: str, tensors: Mapping[str, np.ndarray], inputs: int, groups: tuple[int, ...]
) -> PolicyNetwork:
    layers = []
    width = inputs
    i = 0
    while f"pi.{i}.weight" in tensors:
        weight, bias = tensors[f"pi.{i}.weight"], tensors.get(f"pi.{i}.bias")
        if (
            weight.ndim != 2
            or weight.shape[1] != width
            or bias is None
            or bias.shape != (weight.shape[0],)
        ):
            raise PolicyFileError(
                f"{name}: layer pi.{i} has shape {weight.shape}, expected (n, {width}) and a "
                "bias of n"
            )
        layers.append((weight, bias))
        width = weight.shape[0]
        i += 1
    outputs = sum(groups)
    head_weight, head_bias = tensors.get("action.weight"), tensors.get("action.bias")
    if head_weight is None or head_bias is None or head_weight.shape != (outputs, width):
        shape = None if head_weight is None else head_weight.shape
        raise PolicyFileError(f"{name}: action head {shape}, expected ({outputs}, {width})")
    if head_bias.shape != (outputs,):
        raise PolicyFileError(f"{name}: action bias {head_bias.shape}, expected ({outputs},)")
    values = [t for pair in (*layers, (head_weight, head_bias)) for t in pair]
    if not all(np.isfinite(v).all() for v in values):
        raise PolicyFileError(f"{name}: non-finite weights")
    return PolicyNetwork(layers, (head_weight, head_bias), groups)


class PolicyManager(SequentialManager):
    """A trained policy file as a manager: features of the fact, its shown memories and its
    bank, then the network's most likely action in the file's action format."""

    name = "ppo"

    def __init__(self, path: str | Path | None = None, max_memory_words: int = 40) -> None:
        self.path = None if path is None else str(path)
        self.network, self.metadata = load_policy(path)
        self.k = int(self.metadata["features"]["k"])
        self.action = str(self.metadata["action"]["kind"])
        self.max_memory_words = max_memory_words

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "policy_file": self.path or f"(shipped) {SHIPPED}",
            "features": f"{self.metadata['features']['name']} v{FORMAT_VERSION}",
            "training": self.metadata.get("training", {}),
        }

    def decide(self, fact: Fact, memories: Sequence[RetrievedMemory]) -> ManagerDecision:
        """Without the bank's state the policy sees an unbounded, empty bank mid-episode."""
        return self.decide_with_bank(fact, memories, BankState("", 0, 0, None, 0, 1))

    def decide_with_bank(
        self, fact: Fact, memories: Sequence[RetrievedMemory], bank: BankState
    ) -> ManagerDecision:
        choice = self.network.act(capacity_features(fact, memories, bank, self.k))
        if self.action == "keep":
            return keep_decision(bool(choice[0]), fact, memories, bank)
        op, slot = choice
        return discrete_decision(op, slot, fact, memories, self.action, self.max_memory_words)
