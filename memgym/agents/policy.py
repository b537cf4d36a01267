"""A trained policy network as a memory manager (`ppo`), stored without pickle.

A policy file is safetensors: the weights of a tanh MLP (`pi.<i>.weight`, `pi.<i>.bias`) and
its action head (`action.weight`, `action.bias`: logits of an operation, then of a slot), with
JSON metadata (`memgym_policy`) holding the feature definition it was trained on
(`memgym.agents.capacity_features`), the action format and how it was trained. Loading checks
all of it: a file of another feature definition, with shapes that do not chain, or truncated
is refused with `PolicyFileError` naming the file. `examples/train_sb3_manager.py` writes such
files from stable-baselines3's PPO; the one shipped as `ppo` is the policy that example trains.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memgym.agents.base import BankState, ManagerDecision, RetrievedMemory, SequentialManager
from memgym.agents.capacity_features import (
    UPDATES,
    capacity_features,
    discrete_decision,
    feature_definition,
)
from memgym.agents.weights import read_weights
from memgym.data.schema import Fact
from memgym.memory.operations import Op

FORMAT = "memgym-policy"
FORMAT_VERSION = 1
SHIPPED = "ppo_manager.safetensors"
N_OPS = len(Op)


class PolicyFileError(ValueError):
    """A policy file that cannot be used: names the file and what does not fit."""


class PolicyNetwork:
    """A tanh MLP and a MultiDiscrete([4, k]) head, applied with numpy (greedy actions)."""

    def __init__(self, layers: Sequence[tuple[np.ndarray, np.ndarray]], head: tuple[Any, Any]):
        self.layers = [(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in layers]
        self.head = (np.asarray(head[0], np.float32), np.asarray(head[1], np.float32))

    def act(self, features: np.ndarray) -> tuple[int, int]:
        """The most likely (operation, slot)."""
        x = np.asarray(features, np.float32)
        for weight, bias in self.layers:
            x = np.tanh(weight @ x + bias)
        logits = self.head[0] @ x + self.head[1]
        return int(np.argmax(logits[:N_OPS])), int(np.argmax(logits[N_OPS:]))


def save_policy(
    path: str | Path,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    head: tuple[np.ndarray, np.ndarray],
    k: int,
    update: str,
    training: Mapping[str, Any],
) -> None:
    """Write a policy file (see the module docstring)."""
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
        "action": {"kind": "multidiscrete", "nvec": [N_OPS, k], "update": update},
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
    if action.get("nvec") != [N_OPS, k] or action.get("update") not in UPDATES:
        raise PolicyFileError(f"{name}: action {action!r} is not MultiDiscrete([4, {k}])")
    return _network(name, tensors, len(features["names"]), k), metadata


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


def _network(name: str, tensors: Mapping[str, np.ndarray], inputs: int, k: int) -> PolicyNetwork:
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
    head_weight, head_bias = tensors.get("action.weight"), tensors.get("action.bias")
    if head_weight is None or head_bias is None or head_weight.shape != (N_OPS + k, width):
        shape = None if head_weight is None else head_weight.shape
        raise PolicyFileError(f"{name}: action head {shape}, expected ({N_OPS + k}, {width})")
    if head_bias.shape != (N_OPS + k,):
        raise PolicyFileError(f"{name}: action bias {head_bias.shape}, expected ({N_OPS + k},)")
    values = [t for pair in (*layers, (head_weight, head_bias)) for t in pair]
    if not all(np.isfinite(v).all() for v in values):
        raise PolicyFileError(f"{name}: non-finite weights")
    return PolicyNetwork(layers, (head_weight, head_bias))


class PolicyManager(SequentialManager):
    """A trained policy file as a manager: features of the fact, its shown memories and its
    bank, then the network's most likely (operation, slot)."""

    name = "ppo"

    def __init__(self, path: str | Path | None = None, max_memory_words: int = 40) -> None:
        self.path = None if path is None else str(path)
        self.network, self.metadata = load_policy(path)
        self.k = int(self.metadata["features"]["k"])
        self.update = str(self.metadata["action"]["update"])
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
        features = capacity_features(fact, memories, bank, self.k)
        op, slot = self.network.act(features)
        return discrete_decision(op, slot, fact, memories, self.update, self.max_memory_words)
