"""A tiny chat model with random weights, built on the spot: CPU smoke runs of trainers
(`examples/train_trl_grpo.py --smoke`, the trainer tests) without downloading anything.

Its byte-level BPE tokenizer is trained on the texts the run will show it, and it uses the
Qwen2.5 chat template that TRL ships, so TRL parses its tool calls as it parses Qwen's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = [
    "<tool_call>",
    "</tool_call>",
    "<tool_response>",
    "</tool_response>",
    "<tools>",
    "</tools>",
]


def tiny_tokenizer(corpus: list[str]) -> Any:
    """A byte-level BPE tokenizer trained on `corpus`, with Qwen2.5's special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus * 3,
        trainers.BpeTrainer(
            vocab_size=512,
            special_tokens=SPECIAL,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
        padding_side="left",
    )
    tokenizer.add_tokens(ADDED)
    return tokenizer


def tiny_chat_model(folder: Path, corpus: list[str]) -> str:
    """Save a 1-layer Qwen2 model with random weights and `tiny_tokenizer(corpus)` in `folder`;
    returns the folder (what `from_pretrained` and TRL take)."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM
    from trl.chat_template_utils import qwen2_5_chat_template

    tokenizer = tiny_tokenizer(corpus)
    tokenizer.chat_template = qwen2_5_chat_template
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def smoke_grpo_config(output_dir: str, **overrides: Any) -> Any:
    """TRL's GRPOConfig for two optimisation steps of the tiny model on the CPU, groups of 2;
    `overrides` replace or add settings."""
    from trl.trainer.grpo_config import GRPOConfig

    settings: dict[str, Any] = {
        "output_dir": output_dir,
        "use_cpu": True,
        "bf16": False,
        "report_to": "none",
        "max_steps": 2,
        "per_device_train_batch_size": 2,
        "num_generations": 2,
        "max_completion_length": 64,
        "max_tool_calling_iterations": 2,
        "logging_steps": 1,
        "save_strategy": "no",
        "learning_rate": 1e-3,
        "dataloader_pin_memory": False,
    }
    return GRPOConfig(**{**settings, **overrides})
