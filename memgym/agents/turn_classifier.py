"""How likely a turn is evidence for some question: TF-IDF over its words, then logistic
regression, fitted on one conversation's evidence turns.

The model is scikit-learn's defaults written out in numpy (TfidfVectorizer: lowercase words of
two or more characters, smoothed idf, l2-normalised rows; LogisticRegression: L2 penalty, C=1,
unpenalised intercept), so it needs no scikit-learn at run time and its fit is checked against
scikit-learn's in the tests. Weights are stored as JSON, never pickled.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from memgym.agents.weights import read_weights
from memgym.data.schema import Conversation
from memgym.io import atomic_write_bytes

FORMAT = "memgym-turn-classifier"
VERSION = 1
_TERM = re.compile(r"(?u)\b\w\w+\b")
SHIPPED = "turn_classifier_conv26.json"


class ClassifierFileError(ValueError):
    """A classifier file that cannot be used (names the file and what is wrong)."""


def terms(text: str) -> list[str]:
    """The words the classifier counts: lowercase runs of two or more word characters."""
    return _TERM.findall(text.lower())


@dataclass(frozen=True)
class TurnClassifier:
    """P(a turn is evidence | its text) under a fitted TF-IDF + logistic regression."""

    vocabulary: tuple[str, ...]
    idf: np.ndarray
    weights: np.ndarray
    bias: float
    positive_rate: float  # share of evidence turns in the training conversation
    trained_on: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def index(self) -> dict[str, int]:
        return {term: i for i, term in enumerate(self.vocabulary)}

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """TF-IDF rows of `texts` (l2-normalised; all-zero for texts with no known word)."""
        out = np.zeros((len(texts), len(self.vocabulary)), dtype=np.float64)
        for row, text in enumerate(texts):
            for term in terms(text):
                column = self.index.get(term)
                if column is not None:
                    out[row, column] += 1.0
        out *= self.idf
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """P(evidence) for each text."""
        return _sigmoid(self.vectors(texts) @ self.weights + self.bias)

    def probability(self, text: str) -> float:
        """P(evidence) for one text (cached: managers ask about the same memories again)."""
        cache = self.__dict__.setdefault("_cache", {})
        if text not in cache:
            if len(cache) > 65536:
                cache.clear()
            cache[text] = float(self.probabilities([text])[0])
        return float(cache[text])

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "vocabulary": list(self.vocabulary),
            "idf": self.idf.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "positive_rate": self.positive_rate,
            "trained_on": self.trained_on,
        }

    def save(self, path: str | Path) -> None:
        """Write the classifier as JSON, atomically."""
        atomic_write_bytes(Path(path), json.dumps(self.to_json(), indent=0).encode("utf-8"))


def fit(
    texts: Sequence[str], labels: Sequence[int], trained_on: dict[str, Any] | None = None
) -> TurnClassifier:
    """Fit TF-IDF + L2 logistic regression (C=1) on texts labelled 1 (evidence) or 0."""
    y = np.asarray(labels, dtype=np.float64)
    if len(texts) != len(y) or not len(y) or not 0 < y.sum() < len(y):
        raise ValueError("fit needs as many labels as texts, with both classes present")
    vocabulary = tuple(sorted({t for text in texts for t in terms(text)}))
    document_frequency = np.zeros(len(vocabulary))
    position = {term: i for i, term in enumerate(vocabulary)}
    for text in texts:
        for term in set(terms(text)):
            document_frequency[position[term]] += 1
    idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1.0
    shell = TurnClassifier(vocabulary, idf, np.zeros(len(vocabulary)), 0.0, float(y.mean()))
    weights, bias = _logistic_regression(shell.vectors(texts), y)
    return TurnClassifier(vocabulary, idf, weights, bias, float(y.mean()), dict(trained_on or {}))


def _logistic_regression(x: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[Any, float]:
    """Newton's method on sum(log-loss) + |w|^2 / 2 (the intercept unpenalised)."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.eye(d + 1)
    penalty[d, d] = 0.0
    for _ in range(iterations):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return theta[:d], float(theta[d])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -500, 500))))


def evidence_labels(conversation: Conversation) -> tuple[list[str], list[int]]:
    """Every turn's text as the `turns` fact source gives it, and 1 where the turn is evidence
    for one of the conversation's questions."""
    evidence = {t for q in conversation.questions for t in q.evidence_turn_ids}
    turns = list(conversation.turns())
    return [t.render() for t in turns], [int(t.id in evidence) for t in turns]


def load(path: str | Path | None = None) -> TurnClassifier:
    """A classifier saved by `save` (the shipped one, fitted on LoCoMo conv-26, by default);
    ClassifierFileError names the file and what does not fit."""
    name, raw = read_weights(path, SHIPPED, ClassifierFileError)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ClassifierFileError(f"{name}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ClassifierFileError(f"{name}: not a {FORMAT} file")
    if data.get("version") != VERSION:
        raise ClassifierFileError(f"{name}: version {data.get('version')!r}, expected {VERSION}")
    try:
        vocabulary = tuple(str(t) for t in data["vocabulary"])
        idf = np.asarray(data["idf"], dtype=np.float64)
        weights = np.asarray(data["weights"], dtype=np.float64)
        bias, rate = float(data["bias"]), float(data["positive_rate"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ClassifierFileError(f"{name}: missing or malformed field ({exc})") from exc
    if idf.shape != (len(vocabulary),) or weights.shape != (len(vocabulary),):
        raise ClassifierFileError(
            f"{name}: {len(vocabulary)} terms but idf {idf.shape} and weights {weights.shape}"
        )
    if not (np.isfinite(idf).all() and np.isfinite(weights).all() and math.isfinite(bias)):
        raise ClassifierFileError(f"{name}: non-finite weights")
    return TurnClassifier(vocabulary, idf, weights, bias, rate, dict(data.get("trained_on", {})))
