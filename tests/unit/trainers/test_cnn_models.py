import numpy as np
import pytest
import tensorflow as tf

from trainers.cnn_resnet import model as resnet
from trainers.cnn_vgg import model as vgg
from trainers.common import images
from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context

IMAGES = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (8, 8, 1)})
CTX = Context(IMAGES, "classification", n_classes=10)


def _batch(n=6, seed=0):
    return {"pixels_xf": tf.random.stateless_uniform([n, 8, 8, 1], seed=[seed, 1])}


@pytest.fixture(scope="module", params=["vgg", "resnet"])
def cnn(request):
    tf.keras.utils.set_random_seed(0)
    module = {"vgg": vgg, "resnet": resnet}[request.param]
    return module.build(CTX, module.HParams())


def _layers(model, kind):
    return [layer for layer in model.layers if isinstance(layer, kind)]


def test_cnn_gives_class_probabilities(cnn):
    out = cnn(_batch(), training=False).numpy()
    assert out.shape == (6, 10)
    np.testing.assert_allclose(out.sum(axis=1), np.ones(6), atol=1e-5)
    assert sorted(cnn.input) == ["pixels_xf"]


def test_augmentation_only_in_training(cnn):
    augment = cnn.get_layer("augmentation")
    kinds = {type(layer) for layer in augment.layers}
    assert {tf.keras.layers.RandomTranslation, tf.keras.layers.RandomRotation} <= kinds
    batch = _batch()["pixels_xf"]
    np.testing.assert_array_equal(augment(batch, training=False).numpy(), batch.numpy())
    assert not np.allclose(augment(batch, training=True).numpy(), batch.numpy())
    # Inference is deterministic end to end.
    np.testing.assert_array_equal(
        cnn(_batch(), training=False).numpy(), cnn(_batch(), training=False).numpy()
    )


def test_flip_alone_mirrors_some_images_in_training_and_none_at_inference():
    augment = images.augmentation(0.0, 0.0, 0.0, seed=3, flip=True)
    assert [type(layer) for layer in augment.layers] == [tf.keras.layers.RandomFlip]
    batch = _batch(n=32)["pixels_xf"]
    np.testing.assert_array_equal(augment(batch, training=False).numpy(), batch.numpy())
    out = augment(batch, training=True).numpy()
    mirrored = batch.numpy()[:, :, ::-1, :]
    same = [np.allclose(o, b) for o, b in zip(out, batch.numpy(), strict=True)]
    flipped = [np.allclose(o, m) for o, m in zip(out, mirrored, strict=True)]
    whole = [s or f for s, f in zip(same, flipped, strict=True)]
    assert all(whole)  # each image whole, maybe mirrored
    assert 0 < sum(flipped) < len(out)


def test_flip_is_off_for_the_digits_defaults():
    kinds = [type(layer) for layer in images.augmentation(0.1, 0.03, 0.1, seed=0).layers]
    assert tf.keras.layers.RandomFlip not in kinds and len(kinds) == 3
    assert not images.ImageParams().flip


def test_convolutions_he_initialised(cnn):
    convs = _layers(cnn, tf.keras.layers.Conv2D)
    assert convs
    assert all(isinstance(c.kernel_initializer, tf.keras.initializers.HeNormal) for c in convs)


def test_vgg_blocks_of_convs_then_pooling():
    hp = vgg.HParams(filters=(8, 16), convs_per_block=3)
    model = vgg.build(CTX, hp)
    convs = _layers(model, tf.keras.layers.Conv2D)
    assert [c.filters for c in convs] == [8, 8, 8, 16, 16, 16]
    pools = _layers(model, tf.keras.layers.MaxPooling2D)
    assert [p.output.shape[1] for p in pools] == [4, 2]
    assert _layers(model, tf.keras.layers.Dropout)


def test_resnet_has_one_residual_add_per_block():
    hp = resnet.HParams(filters=(8, 16, 32), blocks_per_stage=2)
    model = resnet.build(CTX, hp)
    adds = _layers(model, tf.keras.layers.Add)
    assert len(adds) == 3 * 2
    assert [a.output.shape[1] for a in adds] == [8, 8, 4, 4, 2, 2]
    assert _layers(model, tf.keras.layers.BatchNormalization)
    assert _layers(model, tf.keras.layers.GlobalAveragePooling2D)


def test_residual_block_is_identity_plus_residual():
    """With the residual branch zeroed, a block passes its (non-negative) input through."""
    x = tf.keras.Input((4, 4, 8))
    block = tf.keras.Model(x, resnet.residual_block(x, 8, 1, "b"))
    assert not _layers(block, tf.keras.layers.Conv2D)[0].name.endswith("proj_conv")
    for conv in _layers(block, tf.keras.layers.Conv2D):
        conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    value = tf.random.stateless_uniform([2, 4, 4, 8], seed=[3, 4])
    np.testing.assert_allclose(block(value, training=False).numpy(), value.numpy(), atol=1e-5)


def test_residual_block_projects_when_downsampling():
    x = tf.keras.Input((8, 8, 8))
    block = tf.keras.Model(x, resnet.residual_block(x, 16, 2, "b"))
    assert block.output.shape.as_list() == [None, 4, 4, 16]
    assert block.get_layer("b_proj_conv").kernel_size == (1, 1)


def test_image_input_needs_exactly_one_image_feature():
    tabular = InputFeatures(numeric=("a_xf",), categorical={})
    with pytest.raises(ValueError, match="exactly one"):
        images.image_input(tabular)
    inputs, image = images.image_input(IMAGES)
    assert list(inputs) == ["pixels_xf"] and image.shape.as_list() == [None, 8, 8, 1]


@pytest.mark.parametrize("module", [vgg, resnet])
def test_cnn_learns_a_tiny_batch(module):
    """A few steps on 16 images fit them better than at the start (the model can learn)."""
    tf.keras.utils.set_random_seed(1)
    model = module.build(CTX, module.HParams(translate=0.0, rotate=0.0, zoom=0.0))
    model.run_eagerly = True  # skips tracing (seconds); same maths
    batch, labels = _batch(16, seed=5), tf.constant(np.arange(16) % 10)
    # Training-mode loss: BatchNorm's moving statistics lag behind in 15 steps.
    history = model.fit(batch, labels, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < history[0]


@pytest.mark.parametrize("module", [vgg, resnet])
def test_search_space_names_hyper_parameters(module):
    import keras_tuner as kt

    from trainers.common import hparams

    space = module.search_space(kt.HyperParameters())
    tuned = hparams.override(module.HParams(), space)
    assert all(getattr(tuned, key) == value for key, value in space.items())
