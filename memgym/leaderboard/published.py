"""Published figures for context in leaderboard tables (not reproduced by memgym).

Memory-R1 (arXiv 2508.19828), LoCoMo test split (1,307 questions), overall micro-averages
under Mem0's protocol: F1 / BLEU-1 / LLM judge, in percent.
"""

from __future__ import annotations

MEMORY_R1_SOURCE = "Memory-R1 paper (arXiv 2508.19828), LoCoMo test split, Mem0 protocol"

MEMORY_R1_LOCOMO_TEST: dict[str, dict[str, tuple[float, float, float]]] = {
    "LLaMA-3.1-8B": {
        "LoCoMo (RAG)": (11.41, 8.71, 13.62),
        "A-Mem": (29.20, 24.40, 44.76),
        "Mem0": (30.41, 22.22, 45.68),
        "MemoryOS": (35.04, 27.99, 48.20),
        "Memory-SFT": (42.81, 32.98, 58.76),
        "Memory-R1-PPO": (41.05, 32.91, 57.54),
        "Memory-R1-GRPO": (45.02, 37.51, 62.74),
    },
    "Qwen-2.5-7B": {
        "LoCoMo (RAG)": (8.97, 7.27, 12.17),
        "A-Mem": (26.08, 21.78, 40.78),
        "Mem0": (30.61, 23.55, 53.30),
        "MemoryOS": (34.64, 29.36, 51.26),
        "Memory-SFT": (39.51, 30.84, 61.13),
        "Memory-R1-PPO": (41.72, 33.70, 59.53),
        "Memory-R1-GRPO": (43.14, 36.44, 61.51),
    },
}
