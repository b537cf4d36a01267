"""A GGUF model through llama-cpp-python, in process, greedy by default.

llama-cpp-python has no wheel on PyPI and compiles from source (about 28 minutes on 2 cores),
so it is the optional extra `memgym[llamacpp]`, never needed by CI. `llama-cpp-python[server]`
also serves a GGUF file as an OpenAI-compatible endpoint, which the endpoint client reads.
"""

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


class LlamaCppClient:
    """`llama_cpp.Llama(model_path)`: chat completions with the model's own chat format."""

    def __init__(
        self,
        model_path: str,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> None:
        self.model_path = model_path
        self.model = model_path
        self.n_ctx, self.n_threads = n_ctx, n_threads
        self.max_tokens, self.temperature, self.seed = max_tokens, temperature, seed
        self._llama: Any = None
        self.stats = ClientStats()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "llama.cpp",
            "model": self.model_path,
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_llama": None}

    def _load(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise LLMError(
                    "backend",
                    "llama-cpp-python is not installed: pip install 'memgym[llamacpp]'",
                    1,
                ) from exc
            self._llama = Llama(
                model_path=self.model_path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                seed=self.seed,
                verbose=False,
            )
        return self._llama

    def __call__(self, messages: Messages) -> str:
        return self.complete(messages)

    def complete(self, messages: Messages) -> str:
        """The reply; raises LLMError if the model cannot run on these messages."""
        llama = self._load()
        try:
            out = llama.create_chat_completion(
                messages=messages, max_tokens=self.max_tokens, temperature=self.temperature
            )
        except (ValueError, RuntimeError) as exc:
            raise LLMError("generation", str(exc), 1) from exc
        reply = str(out["choices"][0]["message"]["content"] or "")
        self.stats.record(messages, reply)
        return reply

    def complete_batch(
        self, batch: Sequence[Messages], usable: Usable | None = None
    ) -> list[str | LLMError]:
        return complete_sequentially(self.complete, batch)
