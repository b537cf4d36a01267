"""Fit the `supervised` manager's classifier: TF-IDF + logistic regression predicting whether a
turn is evidence for some question, on the evidence turns of a training split only.

    python examples/fit_turn_classifier.py --data locomo_conv26.json --split train \\
        --out memgym/agents/weights/turn_classifier_conv26.json    # the shipped weights
    python examples/fit_turn_classifier.py --out /tmp/clf.json       # bundled sample

The shipped file was written by the first command on LoCoMo conv-26 (Memory-R1's training
conversation); no other conversation's golds are read. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json

from memgym.agents.turn_classifier import evidence_labels, fit
from memgym.data import load_dataset


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default=None, help="LoCoMo file (default: bundled sample)")
    parser.add_argument("--split", default="train")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    dataset = load_dataset("locomo", args.data, args.split)
    texts: list[str] = []
    labels: list[int] = []
    for conversation in dataset.conversations:
        t, y = evidence_labels(conversation)
        texts += t
        labels += y
    trained_on = {
        "dataset": dataset.name,
        "split": dataset.split,
        "content_hash": dataset.content_hash,
        "conversations": [c.id for c in dataset.conversations],
        "turns": len(texts),
        "evidence_turns": sum(labels),
        "model": "TF-IDF (sklearn defaults) + L2 logistic regression, C=1",
    }
    classifier = fit(texts, labels, trained_on)
    classifier.save(args.out)
    print(json.dumps({"out": args.out, "vocabulary": len(classifier.vocabulary), **trained_on}))


if __name__ == "__main__":
    main()
