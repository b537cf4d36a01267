"""Shared by the trainer tests: a scripted policy that depends only on the user turn (so a fake
model and a direct loop take the same actions), the direct reference rollout, and a tiny local
chat model for TRL (random weights, built in the test, never downloaded)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from memgym.wrappers.variants import memory_manager_text

ENV_KWARGS: dict[str, Any] = {"retriever": "bm25", "episode": "conversation", "split": "all"}
_FACT = re.compile(r"<new_fact[^>]*>\s*(.*?)\s*</new_fact>", re.S)


def scripted_completion(user_turn: str) -> str:
    """ADD the new fact; a reply that cannot be read for every fact whose length % 4 == 3."""
    match = _FACT.search(user_turn)
    if match is None:
        return "NONE"
    fact = match.group(1).strip()
    return "I am not sure." if len(fact) % 4 == 3 else f"ADD: {fact}"


def scripted_model(body: dict[str, Any]) -> str:
    """The fake server's reply: the scripted policy on the last user message."""
    users = [m for m in body["messages"] if m.get("role") == "user"]
    content = users[-1]["content"] if users else ""
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return scripted_completion(str(content))


def reference_rollout(seed: int, **env_kwargs: Any) -> list[float]:
    """Step rewards of one episode of MemoryManagerEnv-text-v0 under the scripted policy."""
    env = memory_manager_text(**{**ENV_KWARGS, **env_kwargs})
    observation, _ = env.reset(seed=seed)
    rewards, done = [], False
    while not done:
        action = scripted_completion(observation["messages"][-1]["content"])
        observation, reward, terminated, truncated, _ = env.step(action)
        rewards.append(float(reward))
        done = terminated or truncated
    return rewards


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
    """A 1-layer Qwen2 model with random weights and `tiny_tokenizer`, using the Qwen2.5 chat
    template that TRL ships (so TRL parses its tool calls)."""
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


def forcing_bias(tokenizer: Any, replies: list[str], bias: float = 50.0) -> list[Any]:
    """`sequence_bias` entries that make the tiny model spell one of `replies` after the
    assistant header (about evenly), then "Done." after a tool response: generation is
    steered, the model's log-probabilities (what GRPO trains) are its own."""

    def ids(text: str) -> list[int]:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"])

    anchor = ids("<|im_start|>assistant\n")
    after_tool = ids("</tool_response><|im_end|>\n<|im_start|>assistant\n")
    entries: dict[tuple[int, ...], float] = {}
    for reply in replies:
        tokens = ids(reply)
        for k in range(len(tokens)):
            entries[tuple(anchor + tokens[: k + 1])] = bias
    done = ids("Done.<|im_end|>")
    for k in range(len(done)):
        entries[tuple(after_tool + done[: k + 1])] = 2 * bias
    return [[list(key), value] for key, value in entries.items()]


def tool_call(name: str, arguments: dict[str, Any]) -> str:
    return (
        f'<tool_call>\n{{"name": "{name}", "arguments": {json.dumps(arguments)}}}\n'
        "</tool_call><|im_end|>"
    )
