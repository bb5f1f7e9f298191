import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.common.mlp import build
from trainers.digits_mlp.model import HParams

IMAGES = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (8, 8, 1)})
CTX = Context(IMAGES, "classification", n_classes=10)


@pytest.fixture(scope="module")
def model():
    tf.keras.utils.set_random_seed(0)
    return build(CTX, HParams())


def _hidden(model):
    return model.get_layer("blocks").layers


def test_image_input_gives_class_probabilities(model):
    assert model.input["pixels_xf"].shape.as_list() == [None, 8, 8, 1]
    out = model({"pixels_xf": tf.random.uniform([5, 8, 8, 1])}, training=False).numpy()
    assert out.shape == (5, 10)
    np.testing.assert_allclose(out.sum(axis=1), np.ones(5), atol=1e-5)


def test_sequential_blocks_have_dropout_and_batchnorm(model):
    blocks = model.get_layer("blocks")
    assert isinstance(blocks, tf.keras.Sequential)
    kinds = [type(layer) for layer in _hidden(model)]
    assert kinds.count(tf.keras.layers.Dropout) == HParams().layers
    assert kinds.count(tf.keras.layers.BatchNormalization) == HParams().layers


def test_hidden_kernels_he_initialised_with_l1_and_l2(model):
    hp = HParams()
    dense = [layer for layer in _hidden(model) if isinstance(layer, tf.keras.layers.Dense)]
    assert [d.units for d in dense] == [hp.units] * hp.layers + [10]
    for layer in dense[:-1]:
        assert isinstance(layer.kernel_initializer, tf.keras.initializers.HeNormal)
        penalty = layer.kernel_regularizer
        assert penalty.l1 == pytest.approx(hp.l1) and penalty.l2 == pytest.approx(hp.l2)
        assert hp.l1 > 0 and hp.l2 > 0
    assert len(model.losses) == hp.layers  # one penalty term per hidden kernel


def test_pixels_flattened_in_row_order(model):
    from trainers.common.layers import FeatureVector

    images = tf.reshape(tf.range(2 * 64, dtype=tf.float32), [2, 8, 8, 1])
    flat = FeatureVector(("pixels_xf",), {})({"pixels_xf": images}).numpy()
    np.testing.assert_array_equal(flat, np.arange(128.0).reshape(2, 64))


def test_dropout_only_in_training(model):
    batch = {"pixels_xf": tf.random.uniform([8, 8, 8, 1], seed=1)}
    first = model(batch, training=False).numpy()
    np.testing.assert_array_equal(first, model(batch, training=False).numpy())
    assert not np.allclose(first, model(batch, training=True).numpy())
