"""What an evaluation run is: every choice that can change a number, hashed for resumption."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from memgym.config import MemoryConfig
from memgym.io import sha256_file, stable_hash
from memgym.memory.capacity import capacity_key

CALL_SETTINGS = ("concurrency", "timeout", "max_retries")


@dataclass(frozen=True)
class LLMSettings:
    """A model: an OpenAI-compatible endpoint (`base_url` + `model`; the key is read from
    `api_key_env`, never stored), a local transformers folder (`model_path`, optionally a
    `gguf_file` in it), or a GGUF file through llama.cpp (`llama_cpp`)."""

    base_url: str | None = None
    model: str | None = None
    model_path: str | None = None
    gguf_file: str | None = None
    llama_cpp: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 512
    timeout: float = 60.0
    max_retries: int = 3
    concurrency: int = 8

    def problem(self) -> str | None:
        """Why these settings name no model (None when they do)."""
        kinds = [k for k in (self.base_url, self.model_path, self.llama_cpp) if k]
        if len(kinds) != 1:
            return "give one model: --base-url with --model, --model-path, or --llama-cpp"
        if self.base_url and not self.model:
            return "--base-url needs --model"
        return None

    def identity(self) -> tuple[str | None, ...]:
        """The model these settings name, whatever the call settings: endpoint and model name,
        model folder and file, or GGUF file."""
        base_url = self.base_url.rstrip("/") if self.base_url else None
        return (
            base_url,
            self.model if base_url else None,
            self.model_path,
            self.gguf_file,
            self.llama_cpp,
        )

    def client_spec(self, cache: str | None = None) -> dict[str, Any]:
        """The spec `memgym.agents.clients.make_client` builds the client from."""
        if self.base_url:
            spec: dict[str, Any] = {
                "base_url": self.base_url,
                "model": self.model,
                "api_key_env": self.api_key_env,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
                "timeout": self.timeout,
                "max_retries": self.max_retries,
                "concurrency": self.concurrency,
            }
            if cache is not None:
                spec["cache"] = cache
            return spec
        if self.model_path:
            spec = {"model_path": self.model_path, "max_new_tokens": self.max_tokens}
            if self.gguf_file:
                spec["gguf_file"] = self.gguf_file
            return spec
        return {"llama_cpp": self.llama_cpp, "max_tokens": self.max_tokens}


@dataclass(frozen=True)
class JudgeSettings:
    """The LLM judge: its own model (Memory-R1 and Mem0 use a fixed judge, never the model
    under test) unless `same_as_answerer` was asked for explicitly, and recorded."""

    llm: LLMSettings | None = None
    same_as_answerer: bool = False
    criteria: tuple[str, ...] = ("lenient", "strict")


@dataclass(frozen=True)
class EvalConfig:
    """One leaderboard run. `manager`/`answerer` are names or `module:callable` specs;
    `policy_file` is the `ppo` manager's policy (None: the shipped one); `answer_prompt` a
    template file replacing the llm answerer's prompt; `strict` refuses data with warnings
    instead of loading what is usable."""

    dataset: str = "locomo"
    data: str | None = None
    split: str = "all"
    include_adversarial: bool = False
    fact_source: str | None = None
    manager: str = "heuristic"
    answerer: str = "extractive"
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    protocol: str = "memory_r1"
    llm: LLMSettings | None = None
    judge: JudgeSettings | None = None
    inject: int = 0
    seed: int = 0
    strict: bool = False
    policy_file: str | None = None
    answer_prompt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self, dataset_hash: str) -> str:
        """Hash of the configuration and the data behind a run's results. How calls are made
        (concurrency, timeout, retries) is left out: it decides only whether a call fails, and
        failures are recorded per question, so a run interrupted by a rate limit may resume
        with gentler settings (finished conversations are kept as they were). `strict` is left
        out too: it only refuses data. Settings added later (`memory_capacity`, `policy_file`,
        `answer_prompt`) are left out while unset, so folders of earlier runs still resume;
        files count by their content."""
        config = self.to_dict()
        del config["strict"]
        config["memory"] = capacity_key(config["memory"])
        for key in ("policy_file", "answer_prompt"):
            if config[key] is None:
                del config[key]
            else:
                config[key] = sha256_file(Path(config[key]))
        for llm in (config["llm"], (config["judge"] or {}).get("llm")):
            if llm is not None:
                for key in CALL_SETTINGS:
                    del llm[key]
        return stable_hash({"config": config, "dataset": dataset_hash})
