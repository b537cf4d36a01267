"""The transformers backend on a tiny randomly initialised model built here (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memgym.agents import LLMAnswerer, TransformersClient
from memgym.agents.base import AskedQuestion

pytestmark = pytest.mark.slow

CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}<assistant> {% endif %}"
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    words = [
        "<pad>",
        "<eos>",
        "<unk>",
        "<system>",
        "<user>",
        "<assistant>",
        "answer",
        "buddy",
        "dog",
        "**Answer:**",
    ]
    vocab = {w: i for i, w in enumerate(words)}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    tokenizer = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = transformers.LlamaConfig(
        vocab_size=len(words),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=1,
    )
    model = transformers.LlamaForCausalLM(config)
    folder = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_greedy_generation_is_deterministic_text(tiny_model: Path) -> None:
    client = TransformersClient(str(tiny_model), max_new_tokens=6)
    messages = [{"role": "user", "content": "dog buddy answer"}]
    first = client.complete(messages)
    assert isinstance(first, str)
    assert client.complete(messages) == first
    assert client.complete_batch([messages, messages]) == [first, first]
    assert client.describe()["backend"] == "transformers"


def test_llm_answerer_runs_on_the_local_model(tiny_model: Path) -> None:
    answerer = LLMAnswerer(TransformersClient(str(tiny_model), max_new_tokens=4))
    answer = answerer.answer(AskedQuestion("q", "dog?", None, None, 4), [])
    assert answer.error is None and isinstance(answer.text, str)
