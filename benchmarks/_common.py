"""Helpers shared by the benchmark scripts: timing, percentiles, synthetic text, reporting."""

from __future__ import annotations

import json
import platform
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall seconds of `repeat` calls of `fn`."""
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def percentile_us(samples: list[float], q: float) -> float:
    """The q-th percentile of samples (seconds) in microseconds."""
    return float(np.percentile(np.asarray(samples) * 1e6, q))


def synthetic_texts(n: int, seed: int = 0, vocabulary: int = 5000) -> list[str]:
    """Short memory-like sentences over a Zipf-distributed vocabulary (deterministic).

    As in English, the most frequent words are function words (the retrieval stop words).
    """
    from memgym.retrieval.tokenizer import STOPWORDS

    rng = random.Random(seed)
    words = sorted(STOPWORDS) + [f"w{i}" for i in range(vocabulary - len(STOPWORDS))]
    weights = [1.0 / (rank + 1) for rank in range(vocabulary)]
    return [" ".join(rng.choices(words, weights, k=rng.randint(6, 14))) for _ in range(n)]


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }


def emit(summary: dict[str, Any]) -> None:
    """Print the key figures as one JSON object on the last line."""
    print(json.dumps(summary, sort_keys=True))
