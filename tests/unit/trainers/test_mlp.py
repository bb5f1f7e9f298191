import numpy as np
import pytest
import tensorflow as tf

from trainers.common import keras_run, keras_trainer, mlp
from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.common.layers import Denormalize, FeatureVector

FEATURES = InputFeatures(numeric=("a_xf", "a_na"), categorical={"c_xf": 4})
CLASSIFY = Context(FEATURES, "classification", n_classes=3)
REGRESS = Context(FEATURES, "regression", 0, label_mean=100.0, label_std=10.0)


def _batch():
    return {
        "a_xf": tf.constant([0.5, -1.0, 2.0, 0.0]),
        "a_na": tf.constant([0.0, 0.0, 0.0, 1.0]),
        "c_xf": tf.constant([0, 3, 1, 2], dtype=tf.int64),
    }


@pytest.fixture(scope="module")
def classifier():
    tf.keras.utils.set_random_seed(0)
    return mlp.build(CLASSIFY, mlp.HParams())


def test_model_inputs(classifier):
    assert sorted(classifier.input_names) == ["a_na", "a_xf", "c_xf"]
    assert classifier.input["c_xf"].dtype == tf.int64
    assert classifier.input["a_xf"].dtype == tf.float32


def test_softmax_rows_sum_to_one(classifier):
    out = classifier(_batch(), training=False).numpy()
    assert out.shape == (4, 3)
    assert out.sum(axis=1) == pytest.approx(np.ones(4), abs=1e-5)
    assert (out >= 0).all()


def test_inputs_bound_by_name(classifier):
    batch = _batch()
    expected = classifier(batch, training=False).numpy()
    reordered = {k: batch[k] for k in ("c_xf", "a_na", "a_xf")}
    assert classifier(reordered, training=False).numpy() == pytest.approx(expected, abs=1e-6)
    swapped = dict(batch, a_xf=batch["a_na"], a_na=batch["a_xf"])
    assert not np.allclose(classifier(swapped, training=False).numpy(), expected, atol=1e-4)


def test_categorical_input_matters(classifier):
    batch = _batch()
    expected = classifier(batch, training=False).numpy()
    changed = dict(batch, c_xf=tf.constant([3, 0, 2, 1], dtype=tf.int64))
    assert not np.allclose(classifier(changed, training=False).numpy(), expected, atol=1e-4)


def test_regression_output_denormalized():
    model = mlp.build(REGRESS, mlp.HParams())
    out = model(_batch(), training=False)
    assert out.shape == (4, 1)
    denormalize = model.get_layer("blocks").layers[-1]
    assert isinstance(denormalize, Denormalize)
    assert denormalize(tf.zeros([2, 1])).numpy().ravel().tolist() == [100.0, 100.0]
    assert denormalize(tf.ones([1, 1])).numpy().item() == pytest.approx(110.0)


def test_denormalize_config_round_trip():
    layer = Denormalize(3.0, 2.0)
    copy = Denormalize.from_config(layer.get_config())
    assert copy(tf.constant([[1.0]])).numpy().item() == 5.0


def test_feature_vector_width_and_one_hot():
    layer = FeatureVector(("x", "y"), {"c": 4, "d": 3})
    out = layer(
        {
            "x": tf.constant([1.5]),
            "y": tf.constant([[2.0]]),
            "c": tf.constant([2], dtype=tf.int64),
            "d": tf.constant([0], dtype=tf.int64),
        }
    )
    assert out.shape == (1, 2 + 4 + 3)
    assert out.numpy()[0].tolist() == [1.5, 2.0, 0, 0, 1, 0, 1, 0, 0]


def test_hidden_layers_follow_hparams():
    model = mlp.build(CLASSIFY, mlp.HParams(units=7, layers=3))
    dense = [
        layer
        for layer in model.get_layer("blocks").layers
        if isinstance(layer, tf.keras.layers.Dense)
    ]
    assert [d.units for d in dense] == [7, 7, 7, 3]
    assert model.name == "mlp"


def _evaluate(model, y):
    model.run_eagerly = True  # skips autograph tracing (seconds); same loss and metrics
    return model.evaluate(_batch(), y, verbose=0, return_dict=True)


def test_compile_classification_metric(classifier):
    result = _evaluate(classifier, tf.constant([0, 1, 2, 0]))
    assert set(result) == {"loss", "accuracy"}
    assert 0.0 <= result["accuracy"] <= 1.0


def test_compile_regression_metric():
    model = mlp.build(REGRESS, mlp.HParams())
    result = _evaluate(model, tf.constant([100.0, 90.0, 110.0, 100.0]))
    assert set(result) == {"loss", "rmse"}
    assert isinstance(model.loss, tf.keras.losses.MeanSquaredError)


def test_schedule():
    hp = mlp.HParams(steps_per_epoch=50)
    assert keras_run.fit_schedule(1000, hp) == {"steps_per_epoch": 50, "epochs": 20}
    assert keras_run.fit_schedule(10, hp) == {"steps_per_epoch": 10, "epochs": 1}


def test_warm_start_copies_weights(tmp_path):
    tf.keras.utils.set_random_seed(1)
    base = mlp.build(CLASSIFY, mlp.HParams())
    base.run_eagerly = True
    base.fit(_batch(), tf.constant([0, 1, 2, 0]), epochs=1, verbose=0)
    base.save(str(tmp_path / "base"), save_format="tf")
    tf.keras.utils.set_random_seed(2)
    fresh = mlp.build(CLASSIFY, mlp.HParams())
    pairs = zip(fresh.get_weights(), base.get_weights(), strict=True)
    assert not all(np.array_equal(a, b) for a, b in pairs)
    assert keras_trainer.warm_start(fresh, str(tmp_path / "base")) > 0
    for got, want in zip(fresh.get_weights(), base.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    batch = _batch()
    np.testing.assert_allclose(
        fresh(batch, training=False).numpy(), base(batch, training=False).numpy(), atol=1e-6
    )


def test_warm_start_skips_other_shapes(tmp_path):
    base = mlp.build(CLASSIFY, mlp.HParams(units=8))
    base.save(str(tmp_path / "base"), save_format="tf")
    fresh = mlp.build(CLASSIFY, mlp.HParams(units=16))
    before = [w.copy() for w in fresh.get_weights()]
    assert keras_trainer.warm_start(fresh, str(tmp_path / "base")) == 0
    for got, want in zip(fresh.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)
