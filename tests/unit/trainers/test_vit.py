"""vit: patches in reading order, the class token, and the model's shapes."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.vit import model


def test_patches_are_cut_row_by_row_without_overlap():
    image = tf.reshape(tf.range(16.0), [1, 4, 4, 1])
    patches = model.Patches(2)(image).numpy()
    assert patches.shape == (1, 4, 4)
    np.testing.assert_array_equal(patches[0, 0], [0, 1, 4, 5])
    np.testing.assert_array_equal(patches[0, 1], [2, 3, 6, 7])
    np.testing.assert_array_equal(patches[0, 3], [10, 11, 14, 15])


def test_the_class_token_comes_first_and_is_shared():
    tokens = model.ClassToken()(tf.ones([3, 5, 8]))
    assert tokens.shape == (3, 6, 8)
    np.testing.assert_array_equal(tokens[:, 0].numpy(), np.zeros([3, 8]))


def _ctx(side: int) -> Context:
    features = InputFeatures(("pixels_xf",), {}, {"pixels_xf": (side, side, 1)})
    return Context(features, "classification", 10, train_steps=10, classes=tuple("0123456789"))


@pytest.mark.parametrize("kind", ["keras", "scratch"])
def test_a_vit_gives_class_probabilities(kind):
    net = model.build(_ctx(28), model.HParams(dim=16, blocks=1, heads=2, attention=kind))
    out = net(tf.zeros([2, 28, 28, 1])).numpy()
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    assert net.get_layer("positions").codes.shape == (50, 16)  # 49 patches + the class token


def test_a_patch_that_does_not_divide_the_image_is_refused():
    with pytest.raises(ValueError, match="patch 5: must divide the image side 28"):
        model.build(_ctx(28), model.HParams(patch=5))
