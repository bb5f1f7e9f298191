"""text_transformer: tokens, padding that is never read, the data's official splits."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures, xf
from trainers.common.keras_trainer import Context
from trainers.text_transformer import data, model, preprocessing
from trainers.text_transformer.features import PAD, REVIEW


def test_tokens_are_lower_case_words_without_markup_or_punctuation():
    found = preprocessing.tokens(tf.constant(["Great taste!<br />I'd buy  it, AGAIN."]))
    assert [t.decode() for t in found[0].numpy()] == ["great", "taste", "i'd", "buy", "it", "again"]


def test_the_official_test_reviews_are_the_test_split():
    parts = data.splits()
    assert [len(parts[s]) for s in ("train", "eval", "test")] == [3400, 600, 1000]
    assert set(parts["test"]["score"]) == {"great", "other"}
    assert data.splits(limit=5)["eval"]["review"].tolist() == parts["eval"]["review"][:5].tolist()


def test_examples_round_trip(tmp_path):
    data.write(tmp_path, limit=3)
    rows = list(data.read(tmp_path / "test" / data.FILENAME))
    test = data.splits(limit=3)["test"]
    assert rows == list(zip(test["review"], test["score"], strict=True))


def _ctx(length: int = 6, ids: int = 20) -> Context:
    features = InputFeatures((), {xf(REVIEW): ids}, {xf(REVIEW): (length,)})
    return Context(features, "classification", 2, train_steps=10, classes=("great", "other"))


@pytest.mark.parametrize("kind", ["keras", "scratch"])
def test_what_follows_a_review_is_never_read(kind):
    net = model.build(_ctx(), model.HParams(dim=8, attention=kind, dropout=0.0))
    review = np.array([[3, 5, 7, PAD, PAD, PAD]])
    before = net(review).numpy()
    table = net.get_layer("tokens").table
    weights = table.get_weights()[0].copy()
    weights[0] += 10.0  # the padding row
    table.set_weights([weights])
    np.testing.assert_allclose(net(review).numpy(), before, atol=1e-6)
    assert not np.allclose(net(np.array([[3, 5, 7, 7, PAD, PAD]])).numpy(), before)


def test_an_empty_review_averages_to_zeros():
    pooled = model.MaskedMean()(tf.ones([1, 3, 4]), tf.zeros([1, 3]))
    np.testing.assert_array_equal(pooled.numpy(), np.zeros([1, 4]))
