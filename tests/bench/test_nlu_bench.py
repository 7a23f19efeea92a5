"""The benchmark's data handling and scoring (no training: that is the bench)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import datasets
from bench.nlu_quality import OOS, pipeline_config, predicted_label, score


def test_quick_subset_is_fixed_stratified_and_shared() -> None:
    first = datasets.load("clinc150_en", quick=True)
    again = datasets.load("clinc150_en", quick=True)
    assert first.train == again.train and first.test == again.test
    per_label = Counter(label for _, label in first.train)
    assert set(per_label.values()) == {datasets.QUICK_TRAIN_PER_INTENT}
    assert len(per_label) == 151  # 150 intents + OOS
    test_labels = Counter(label for _, label in first.test)
    assert test_labels[None] == datasets.QUICK_TEST_OOS


def test_full_splits_match_the_published_sizes() -> None:
    clinc = datasets.load("clinc150_en", quick=False)
    assert (len(clinc.train), len(clinc.test)) == (15_100, 5_500)
    assert sum(label is None for _, label in clinc.test) == 1_000
    ru = datasets.load("clinc150_ru", quick=False)
    assert len(ru.intents()) == 150 and ru.has_oos
    assert not datasets.load("banking77_ru", quick=False).has_oos
    assert len(datasets.load("banking77_en", quick=False).intents()) == 77


def test_fallback_and_out_of_scope_both_count_as_oos() -> None:
    assert predicted_label({"intent": {"name": "nlu_fallback"}}) == OOS
    assert predicted_label({"intent": {"name": "out_of_scope"}}) == OOS
    assert predicted_label({"intent": {"name": "balance"}}) == "balance"


def test_scores() -> None:
    truth = ["a", "a", "b", None, None]
    predicted = ["a", OOS, "b", OOS, "a"]
    result = score(truth, predicted)
    assert result["in_scope_accuracy"] == pytest.approx(2 / 3)
    assert result["oos_recall"] == pytest.approx(1 / 2)
    assert result["in_scope_predicted_oos"] == pytest.approx(1 / 3)


def test_stock_pipeline_is_rasa_init_default_unless_epochs_lowered() -> None:
    stock = pipeline_config("stock", "en", 100)["pipeline"]
    names = [step["name"] for step in stock]
    assert names[-1] == "FallbackClassifier" and "DIETClassifier" in names
    diet = next(step for step in stock if step["name"] == "DIETClassifier")
    assert diet["epochs"] == 100
    quick = pipeline_config("stock", "en", 10)["pipeline"]
    assert {s.get("epochs") for s in quick if "epochs" in s} == {10}
