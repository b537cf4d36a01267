"""A local transformers model as a chat client: the model's chat template, greedy by default."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memgym.agents.llm_client import (
    ClientStats,
    LLMError,
    Messages,
    Usable,
    complete_sequentially,
)


class TransformersClient:
    """`AutoModelForCausalLM` + `AutoTokenizer` from a local folder (never downloaded); a GGUF
    file in that folder loads through `gguf_file` (needs the `gguf` package; weights are
    dequantised, so memory and speed are those of the full-precision model)."""

    def __init__(
        self,
        model_path: str,
        *,
        gguf_file: str | None = None,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        device: str = "cpu",
        seed: int = 0,
    ) -> None:
        self.model_path = model_path
        self.gguf_file = gguf_file
        self.model = model_path if gguf_file is None else f"{model_path}/{gguf_file}"
        self.max_new_tokens, self.temperature, self.device, self.seed = (
            max_new_tokens,
            temperature,
            device,
            seed,
        )
        self._tokenizer: Any = None
        self._model: Any = None
        self.stats = ClientStats()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "transformers",
            "model": self.model,
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
        }

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_tokenizer": None, "_model": None}

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            extra = {} if self.gguf_file is None else {"gguf_file": self.gguf_file}
            self._tokenizer = AutoTokenizer.from_pretrained(
                self.model_path, local_files_only=True, **extra
            )
            self._model = AutoModelForCausalLM.from_pretrained(
                self.model_path, local_files_only=True, **extra
            )
            self._model.to(self.device).eval()
        return self._tokenizer, self._model

    def __call__(self, messages: Messages) -> str:
        return self.complete(messages)

    def complete(self, messages: Messages) -> str:
        """Generate a reply; raises LLMError if the model cannot run on these messages."""
        import torch

        tokenizer, model = self._load()
        try:
            inputs = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            ).to(self.device)
            sampling = self.temperature > 0
            torch.manual_seed(self.seed)
            with torch.no_grad():
                output = model.generate(
                    **inputs,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=sampling,
                    temperature=self.temperature if sampling else None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
                )
        except (ValueError, RuntimeError) as exc:
            raise LLMError("generation", str(exc), 1) from exc
        new_tokens = output[0, inputs["input_ids"].shape[1] :]
        reply = str(tokenizer.decode(new_tokens, skip_special_tokens=True))
        self.stats.record(messages, reply)
        return reply

    def complete_batch(
        self, batch: Sequence[Messages], usable: Usable | None = None
    ) -> list[str | LLMError]:
        return complete_sequentially(self.complete, batch)
