import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.subclassed import loop
from trainers.subclassed.layers import DenseBlock, DigitsClassifier
from trainers.subclassed.model import HParams, build

IMAGES = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (8, 8, 1)})
CTX = Context(IMAGES, "classification", n_classes=10)


def _data(n=32, seed=0):
    images = tf.random.stateless_uniform([n, 8, 8, 1], seed=[seed, 2])
    labels = tf.constant(np.arange(n) % 10, dtype=tf.int64)
    return tf.data.Dataset.from_tensor_slices(({"pixels_xf": images}, labels)).batch(16)


def test_subclassed_model_with_custom_layers():
    tf.keras.utils.set_random_seed(0)
    model = build(CTX, HParams(units=16, layers=3))
    assert isinstance(model, DigitsClassifier)
    assert not isinstance(model, tf.keras.Sequential) and not model._is_graph_network
    blocks = [layer for layer in model.layers if isinstance(layer, DenseBlock)]
    assert len(blocks) == 3
    out = model({"pixels_xf": tf.zeros([4, 8, 8, 1])}, training=False).numpy()
    assert out.shape == (4, 10)
    np.testing.assert_allclose(out.sum(axis=1), np.ones(4), atol=1e-5)
    assert len(model.losses) == 3  # each block's L2 penalty


def test_dense_block_he_init_batchnorm_and_dropout_in_training_only():
    block = DenseBlock(32, dropout=0.5, l2=1e-3, seed=1)
    x = tf.random.stateless_uniform([8, 12], seed=[1, 1])
    inference = block(x, training=False).numpy()
    np.testing.assert_array_equal(inference, block(x, training=False).numpy())
    assert (block(x, training=True).numpy() == 0).mean() > (inference == 0).mean()
    assert isinstance(block.dense.kernel_initializer, tf.keras.initializers.HeNormal)
    assert isinstance(block.norm, tf.keras.layers.BatchNormalization)
    assert (inference >= 0).all()  # ReLU


def test_gradient_tape_loop_reduces_the_loss_on_a_tiny_batch():
    tf.keras.utils.set_random_seed(0)
    model = build(CTX, HParams(units=32, dropout=0.0))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
    data = _data()
    history = loop.train(model, data.repeat(), data, epochs=8, steps_per_epoch=4)
    assert len(history["loss"]) == 8
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] > history["accuracy"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_loop_stops_early_and_keeps_the_best_weights():
    tf.keras.utils.set_random_seed(0)
    model = build(CTX, HParams(units=16))
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-2))
    train, val = _data(seed=0), _data(seed=1)  # unrelated labels: val_loss soon rises

    class Snapshots(tf.keras.callbacks.Callback):
        weights: list = []

        def on_epoch_end(self, epoch, logs=None):
            self.weights.append(self.model.get_weights())

    snapshots = Snapshots()
    stopping = tf.keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = loop.train(
        model, train.repeat(), val, epochs=40, steps_per_epoch=5, callbacks=[snapshots, stopping]
    )
    ran = len(history["val_loss"])
    best = int(np.argmin(history["val_loss"]))
    assert ran < 40 and ran == best + 3
    for got, want in zip(model.get_weights(), snapshots.weights[best], strict=True):
        np.testing.assert_array_equal(got, want)


def test_tensorboard_hook_writes_train_and_validation_scalars(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    tf.keras.utils.set_random_seed(0)
    model = build(CTX, HParams(units=8))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-2))
    data = _data()
    hook = tf.keras.callbacks.TensorBoard(str(tmp_path), update_freq="epoch", profile_batch=0)
    loop.train(model, data.repeat(), data, epochs=3, steps_per_epoch=2, callbacks=[hook])
    for side in ("train", "validation"):
        events = event_accumulator.EventAccumulator(str(tmp_path / side))
        events.Reload()
        assert set(events.Tags()["tensors"]) == {"epoch_loss", "epoch_accuracy"}
        assert [e.step for e in events.Tensors("epoch_loss")] == [0, 1, 2]


@pytest.mark.parametrize("bad", [{}, {"pixels_xf": (64,)}])
def test_build_needs_one_image_feature(bad):
    features = InputFeatures(numeric=tuple(bad), categorical={}, shapes=bad)
    with pytest.raises(ValueError, match="exactly one"):
        build(Context(features, "classification", 10), HParams())


def test_warm_start_copies_the_saved_subclassed_models_weights(tmp_path):
    from trainers.common import keras_trainer

    tf.keras.utils.set_random_seed(1)
    base = build(CTX, HParams(units=16))
    base.save(str(tmp_path / "base"), save_format="tf")
    tf.keras.utils.set_random_seed(2)
    fresh = build(CTX, HParams(units=16))
    assert keras_trainer.warm_start(fresh, str(tmp_path / "base")) == 3  # 2 blocks + output
    batch = {"pixels_xf": tf.random.stateless_uniform([3, 8, 8, 1], seed=[0, 9])}
    np.testing.assert_allclose(
        fresh(batch, training=False).numpy(), base(batch, training=False).numpy(), atol=1e-6
    )


def test_search_space_names_hyper_parameters():
    import keras_tuner as kt

    from trainers.common import hparams
    from trainers.subclassed.model import search_space

    tuned = hparams.override(HParams(), search_space(kt.HyperParameters()))
    assert tuned.units == 64 and tuned.layers == 1


def test_loop_steps_the_compiled_optimizer_with_loss_scaling_under_float16():
    from trainers.common import keras_trainer, precision

    tf.keras.utils.set_random_seed(0)
    hp = HParams(units=16, dropout=0.0, learning_rate=1e-2)
    with precision.policy("mixed_float16"):
        model = keras_trainer.compile_model(build(CTX, hp), CTX, hp)
    assert isinstance(model.optimizer, tf.keras.mixed_precision.LossScaleOptimizer)
    assert model.blocks[0].compute_dtype == "float16" and model.head.compute_dtype == "float32"
    data = _data()
    history = loop.train(model, data.repeat(), data, epochs=4, steps_per_epoch=4)
    assert all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    assert int(model.optimizer.iterations) == 16
