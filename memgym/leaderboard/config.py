"""What an evaluation run is: every choice that can change a number, hashed for resumption."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from memgym.engine import MemoryConfig
from memgym.io import stable_hash


@dataclass(frozen=True)
class LLMSettings:
    """An OpenAI-compatible endpoint (the key is read from `api_key_env`, never stored)."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = 0.0
    max_tokens: int = 512
    timeout: float = 60.0
    max_retries: int = 3
    concurrency: int = 8


@dataclass(frozen=True)
class EvalConfig:
    """One leaderboard run. `manager`/`answerer` are names or `module:callable` specs."""

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
    judge: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def fingerprint(self, dataset_hash: str) -> str:
        """Hash of everything that determines the results (the data included)."""
        return stable_hash({"config": self.to_dict(), "dataset": dataset_hash})
