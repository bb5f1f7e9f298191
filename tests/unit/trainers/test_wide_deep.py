"""The wide & deep builder: two outputs, loss weights, which inputs feed which part."""

import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context, HeadContext
from trainers.wide_deep import model as wide_deep
from trainers.wide_deep.features import AUX, MAIN

FEATURES = InputFeatures(
    numeric=("Weight_xf", "Weight_na", "Year_xf"), categorical={"Origin_xf": 4, "cross_xf": 7}
)
HEADS = (
    HeadContext(MAIN, "Miles_per_Gallon", "regression", 0, label_mean=23.0, label_std=8.0),
    HeadContext(AUX, "Miles_per_Gallon", "regression", 0, label_mean=23.0, label_std=8.0),
)
CTX = Context(FEATURES, "regression", 0, 23.0, 8.0, heads=HEADS)


def _batch(origin=(0, 1, 2, 3)):
    return {
        "Weight_xf": tf.constant([0.5, -1.0, 2.0, 0.0]),
        "Weight_na": tf.constant([0.0, 0.0, 0.0, 1.0]),
        "Year_xf": tf.constant([-1.0, 0.0, 1.0, 0.5]),
        "Origin_xf": tf.constant(origin, dtype=tf.int64),
        "cross_xf": tf.constant([0, 5, 6, 2], dtype=tf.int64),
    }


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(0)
    return wide_deep.build(CTX, wide_deep.HParams())


def test_named_inputs_and_two_named_outputs(model):
    assert sorted(model.input) == sorted(FEATURES.keys)
    assert model.input["Origin_xf"].dtype == tf.int64
    out = model(_batch(), training=False)
    assert set(out) == {MAIN, AUX}
    assert out[MAIN].shape == out[AUX].shape == (4, 1)


def test_loss_is_the_weighted_sum_of_both_outputs(model):
    y = tf.constant([[18.0], [30.0], [25.0], [12.0]])
    result = model.evaluate(_batch(), {MAIN: y, AUX: y}, verbose=0, return_dict=True)
    hp = wide_deep.HParams()
    weighted = hp.main_weight * result[f"{MAIN}_loss"] + hp.aux_weight * result[f"{AUX}_loss"]
    assert result["loss"] == pytest.approx(weighted, rel=1e-4)
    assert {f"{MAIN}_rmse", f"{AUX}_rmse"} <= set(result)


def test_loss_weights_are_hyper_parameters():
    tf.keras.utils.set_random_seed(0)
    model = wide_deep.build(CTX, wide_deep.HParams(main_weight=0.5, aux_weight=0.5))
    y = tf.constant([[18.0], [30.0], [25.0], [12.0]])
    result = model.evaluate(_batch(), {MAIN: y, AUX: y}, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(
        0.5 * result[f"{MAIN}_loss"] + 0.5 * result[f"{AUX}_loss"], rel=1e-4
    )


def test_categories_reach_the_main_output_through_the_wide_part_only(model):
    before = model(_batch(), training=False)
    after = model(_batch(origin=(3, 2, 1, 0)), training=False)
    assert not np.allclose(before[MAIN], after[MAIN], atol=1e-5)
    np.testing.assert_allclose(before[AUX], after[AUX], atol=1e-6)  # deep part: numbers only


def test_deep_layers_follow_hyper_parameters():
    tf.keras.utils.set_random_seed(0)
    model = wide_deep.build(CTX, wide_deep.HParams(units=8, layers=3))
    deep = [x for x in model.layers if isinstance(x, tf.keras.layers.Dense) and "deep" in x.name]
    assert [layer.units for layer in deep] == [8, 8, 8]


def test_outputs_are_in_label_units():
    tf.keras.utils.set_random_seed(0)
    model = wide_deep.build(CTX, wide_deep.HParams())
    for layer in model.layers:  # zero weights: the standardised output is 0 → the label mean
        layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
    out = model(_batch(), training=False)
    np.testing.assert_allclose(out[MAIN], 23.0)
    np.testing.assert_allclose(out[AUX], 23.0)
