"""Hand-written data for the errata tests: a locomo10.json-shaped file whose first two
conversations are called conv-26 and conv-30 (the bundled sample's, renamed: the real ones are
not needed to test the mechanics), and errata in the audit's schema about them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[1] / "memgym" / "data" / "samples" / "locomo_sample.json"
# Positions 0, 1 and 2 of the official locomo10.json.
NAMES = ("conv-26", "conv-30", "conv-41")


def locomo10(folder: Path, names: tuple[str, ...] = NAMES) -> Path:
    """The bundled sample's first conversations under official ids, as one locomo10.json."""
    samples = json.loads(SAMPLE.read_text())
    renamed = [{**raw, "sample_id": name} for raw, name in zip(samples, names, strict=False)]
    path = folder / "locomo10.json"
    path.write_text(json.dumps(renamed))
    return path


def entry(
    conversation: int,
    qa: int,
    question: str,
    golden: Any,
    category: int,
    error_type: str,
    correct: str,
    evidence: list[str],
) -> dict[str, Any]:
    return {
        "question_id": f"locomo_{conversation}_qa{qa}",
        "question": question,
        "golden_answer": golden,
        "category": category,
        "error_type": error_type,
        "cited_evidence": [],
        "correct_evidence": evidence,
        "reasoning": "written for the tests",
        "correct_answer": correct,
    }


# Three score-corrupting entries (categories 4, 2, 4) and one citation-only entry:
# (conversation, qa index, question, gold, category, error type, correct answer, evidence).
ROWS: list[tuple[Any, ...]] = [
    (0, 0, "What kind of dog is Buddy?", "golden retriever", 4, "HALLUCINATION", "a retriever",
     ["D1:1"]),
    (0, 3, "When did Andrew adopt Scout?", "16 April 2023", 2, "TEMPORAL_ERROR", "15 April 2023",
     ["D2:1", "D2:2"]),
    (0, 1, "Where does Priya work?", "St. Mary's hospital", 4, "WRONG_CITATION",
     "St. Mary's hospital", ["D1:3"]),
    (1, 1, "What is Marcus's cat called?", "Pixel", 4, "ATTRIBUTION_ERROR", "Pixel the cat",
     ["D1:6"]),
]  # fmt: skip
ENTRIES = [entry(*row) for row in ROWS]


def write_errata(folder: Path, entries: list[dict[str, Any]] | Any = None) -> Path:
    path = folder / "errata.json"
    path.write_text(json.dumps(ENTRIES if entries is None else entries))
    return path
