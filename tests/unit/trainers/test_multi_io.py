"""multi_io: the generated reviews, the text Transform and the two-input, two-output model."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import schema_utils
from tensorflow_transform.tf_metadata.dataset_metadata import DatasetMetadata

from trainers.common.features import InputFeatures, xf
from trainers.common.keras_trainer import Context, HeadContext
from trainers.multi_io import data
from trainers.multi_io import model as multi_io
from trainers.multi_io.features import CLASS, MAX_TOKENS, TEXT, VALUE
from trainers.multi_io.preprocessing import PAD, preprocessing_fn


@pytest.fixture(scope="module")
def reviews():
    return pd.DataFrame(data.reviews())


def test_generation_is_deterministic(tmp_path):
    first = data.write(tmp_path / "a").read_bytes()
    assert data.write(tmp_path / "b").read_bytes() == first
    assert data.reviews(rows=50, seed=1) != data.reviews(rows=50, seed=2)


def test_both_classes_present_and_decided_by_the_words(reviews):
    assert len(reviews) == data.ROWS
    shares = reviews[CLASS].value_counts(normalize=True)
    assert set(shares.index) == {"positive", "negative"} and shares.min() > 0.4

    def balance(text):
        words = text.split()
        return sum(w in data.POSITIVE for w in words) - sum(w in data.NEGATIVE for w in words)

    clear = reviews[reviews[TEXT].map(balance) != 0]
    agree = (clear[TEXT].map(balance) > 0) == (clear[CLASS] == "positive")
    assert 0.9 < agree.mean() < 1.0  # the words decide, up to the flipped labels
    assert reviews[TEXT].str.split().map(len).max() <= MAX_TOKENS


def test_rating_depends_on_sentiment_and_price(reviews):
    assert reviews[VALUE].between(1.0, 5.0).all()
    by_class = reviews.groupby(CLASS)[VALUE].mean()
    assert by_class["positive"] > by_class["negative"] + 1.0
    priced = reviews[reviews["price"] != ""]
    log_price = np.log(priced["price"].astype(float))
    assert np.corrcoef(log_price, priced[VALUE])[0, 1] < -0.1
    missing = (reviews["price"] == "").mean()
    assert 0.0 < missing < 0.05


RAW = {
    TEXT: tf.io.VarLenFeature(tf.string),
    "price": tf.io.VarLenFeature(tf.float32),
    CLASS: tf.io.VarLenFeature(tf.string),
    VALUE: tf.io.VarLenFeature(tf.float32),
}


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    rows = [
        {TEXT: ["Great mug, LOVE it"], "price": [10.0], CLASS: ["positive"], VALUE: [4.5]},
        {TEXT: ["broken mug"], "price": [], CLASS: ["negative"], VALUE: [1.5]},
        {TEXT: ["mug " * 20], "price": [30.0], CLASS: ["negative"], VALUE: [2.0]},
    ]
    unseen = [{TEXT: ["great unseenword"], "price": [20.0], CLASS: ["positive"], VALUE: [3.0]}]
    metadata = DatasetMetadata(schema_utils.schema_from_feature_spec(RAW))
    # As in the pipeline's Transform (force_tf_compat_v1=True).
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft")), force_tf_compat_v1=True):
        (out, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing_fn
        )
        new, _ = ((unseen, metadata), transform_fn) | tft_beam.TransformDataset()
    return out, new


def test_text_becomes_padded_token_ids(transformed):
    out, _ = transformed
    ids = [np.asarray(row[xf(TEXT)]) for row in out]
    assert all(row.shape == (MAX_TOKENS,) for row in ids)
    great, love = ids[0][0], ids[0][2]  # lower-cased, punctuation dropped
    assert (ids[0][4:] == PAD).all() and (ids[0][:4] != PAD).all()
    assert ids[1][0] not in (PAD, great, love) and ids[1][1] == ids[0][1]  # "mug" = "mug,"
    assert (ids[2] == ids[0][1]).all()  # truncated at MAX_TOKENS
    assert len({great, love, ids[0][1]}) == 3


def test_unseen_words_share_the_oov_id_and_numbers_are_z_scored(transformed):
    out, new = transformed
    known = {int(i) for row in out for i in row[xf(TEXT)] if i != PAD}
    row = new[0]
    assert row[xf(TEXT)][0] == out[0][xf(TEXT)][0]  # "great"
    assert row[xf(TEXT)][1] == max(known) + 1  # the OOV bucket after the vocabulary
    assert row[xf(CLASS)] == out[0][xf(CLASS)]  # "positive"
    assert row["price_xf"] == pytest.approx(0.0, abs=1e-6)  # the mean of 10 and 30
    assert [r["price_na"] for r in out] == [0.0, 1.0, 0.0]
    assert [r[xf(VALUE)] for r in out] == pytest.approx([4.5, 1.5, 2.0])


VOCAB = 30  # vocabulary + OOV bucket, as InputFeatures reads it from Transform
FEATURES = InputFeatures(numeric=("price_xf", "price_na"), categorical={xf(TEXT): VOCAB})
HEADS = (
    HeadContext(CLASS, CLASS, "classification", n_classes=2),
    HeadContext(VALUE, VALUE, "regression", 0, label_mean=3.0, label_std=1.3),
)
CTX = Context(FEATURES, "classification", 2, heads=HEADS)


def _batch(tokens=None, price=(0.5, -1.0, 2.0)):
    if tokens is None:
        tokens = [[1, 2, 3] + [0] * (MAX_TOKENS - 3), [4, 5] + [0] * (MAX_TOKENS - 2), [6] * 16]
    return {
        xf(TEXT): tf.constant(tokens, dtype=tf.int64),
        "price_xf": tf.constant(price),
        "price_na": tf.constant([0.0, 0.0, 1.0]),
    }


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(0)
    return multi_io.build(CTX, multi_io.HParams())


def test_two_inputs_kinds_and_two_outputs(model):
    assert model.input[xf(TEXT)].shape.as_list() == [None, MAX_TOKENS]
    assert model.input[xf(TEXT)].dtype == tf.int64
    assert model.input["price_xf"].dtype == tf.float32
    out = model(_batch(), training=False)
    assert set(out) == {CLASS, VALUE}
    assert out[CLASS].shape == (3, 2) and out[VALUE].shape == (3, 1)
    np.testing.assert_allclose(out[CLASS].numpy().sum(axis=1), 1.0, atol=1e-5)
    embedding = model.get_layer("embedding")
    assert embedding.input_dim == VOCAB + 1  # + the padding id


def test_both_inputs_matter_and_padding_does_not(model):
    base = model(_batch(), training=False)
    words = _batch(tokens=[[7, 8, 9] + [0] * 13, [4, 5] + [0] * 14, [6] * 16])
    assert not np.allclose(model(words, training=False)[CLASS][0], base[CLASS][0], atol=1e-6)
    pricier = model(_batch(price=(3.0, -1.0, 2.0)), training=False)
    assert not np.allclose(pricier[VALUE][0], base[VALUE][0], atol=1e-6)
    np.testing.assert_allclose(pricier[VALUE][1:], base[VALUE][1:], atol=1e-6)


def test_loss_weights_combine_both_losses():
    tf.keras.utils.set_random_seed(0)
    hp = multi_io.HParams(class_weight=2.0, value_weight=0.5)
    model = multi_io.build(CTX, hp)
    labels = {CLASS: tf.constant([1, 0, 1]), VALUE: tf.constant([[4.5], [1.5], [2.0]])}
    result = model.evaluate(_batch(), labels, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(
        2.0 * result[f"{CLASS}_loss"] + 0.5 * result[f"{VALUE}_loss"], rel=1e-4
    )
    assert {f"{CLASS}_accuracy", f"{VALUE}_rmse"} <= set(result)
