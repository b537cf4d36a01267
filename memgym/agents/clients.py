"""Chat clients from a spec: an endpoint, a local transformers model (GGUF included), llama.cpp.

    make_client({"base_url": "http://127.0.0.1:8000/v1", "model": "Qwen/Qwen2.5-7B-Instruct"})
    make_client({"model_path": "/models/qwen2.5-0.5b-instruct"})
    make_client({"model_path": "/models/gguf-dir", "gguf_file": "model-q4_k_m.gguf"})
    make_client({"llama_cpp": "/models/model-q4_k_m.gguf"})     # needs memgym[llamacpp]

Every client decodes greedily unless told otherwise; none downloads anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from memgym.agents.llm_client import ChatClient, OpenAICompatibleClient
from memgym.agents.transformers_client import TransformersClient

_ENDPOINT_KEYS = {
    "base_url",
    "model",
    "api_key_env",
    "temperature",
    "max_tokens",
    "timeout",
    "max_retries",
    "concurrency",
    "cache",
    "extra_body",
}
_LOCAL_KEYS = {"model_path", "gguf_file", "max_new_tokens", "temperature", "device", "seed"}
_LLAMA_KEYS = {"llama_cpp", "n_ctx", "n_threads", "max_tokens", "temperature", "seed"}


def make_client(spec: ChatClient | Mapping[str, Any]) -> ChatClient:
    """A ChatClient from a spec dict (see the module docstring), or the client itself."""
    if not isinstance(spec, Mapping):
        if not hasattr(spec, "complete_batch"):
            raise TypeError(
                f"a reader must be a ChatClient (complete, complete_batch) or a spec dict, "
                f"got {type(spec).__name__}"
            )
        return spec
    keys = set(spec)
    if "llama_cpp" in keys:
        _only(keys, _LLAMA_KEYS, "llama_cpp")
        from memgym.agents.llama_cpp_client import LlamaCppClient

        options = {k: v for k, v in spec.items() if k != "llama_cpp"}
        return LlamaCppClient(str(spec["llama_cpp"]), **options)
    if "model_path" in keys:
        _only(keys, _LOCAL_KEYS, "model_path")
        options = {k: v for k, v in spec.items() if k != "model_path"}
        return TransformersClient(str(spec["model_path"]), **options)
    if "base_url" in keys:
        _only(keys, _ENDPOINT_KEYS, "base_url")
        if "model" not in keys:
            raise ValueError("an endpoint reader needs both base_url and model")
        options = {k: v for k, v in spec.items() if k not in ("base_url", "model")}
        return OpenAICompatibleClient(str(spec["base_url"]), str(spec["model"]), **options)
    raise ValueError(
        "a reader spec needs base_url (+ model), model_path (+ gguf_file) or llama_cpp; "
        f"got keys {sorted(keys)}"
    )


def _only(keys: set[str], allowed: set[str], kind: str) -> None:
    unknown = keys - allowed
    if unknown:
        raise ValueError(
            f"unknown keys {sorted(unknown)} for a {kind} reader; allowed: {sorted(allowed)}"
        )
