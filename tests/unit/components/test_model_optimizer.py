"""ModelOptimizer's helpers on a tiny Keras model with named inputs and a custom layer.

The data is written as gzipped TFRecords of transformed tf.Examples, as Transform writes them;
the model looks like the course's tabular MLP (named inputs → FeatureVector → Dense).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf

from components import model_optimizer as mo
from trainers.common.layers import FeatureVector

LABEL = "label_xf"
NUMERIC = ("a_xf", "b_xf")
CATEGORICAL = {"c_xf": 3}
INPUTS = (*NUMERIC, *CATEGORICAL)
SPEC = {
    "a_xf": tf.io.FixedLenFeature([], tf.float32),
    "b_xf": tf.io.FixedLenFeature([], tf.float32),
    "c_xf": tf.io.FixedLenFeature([], tf.int64),
    LABEL: tf.io.FixedLenFeature([], tf.int64),
}


def _rows(n: int, seed: int) -> list[dict]:
    """Three classes by the sign pattern of a and b; c is noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    label = np.where(a > 0.3, 2, np.where(b > 0, 1, 0))
    c = rng.integers(0, 3, n)
    return [{"a_xf": a[i], "b_xf": b[i], "c_xf": int(c[i]), LABEL: int(label[i])} for i in range(n)]


def _write(path, rows) -> str:
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for row in rows:
            feature = {
                k: tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))
                if isinstance(v, int)
                else tf.train.Feature(float_list=tf.train.FloatList(value=[v]))
                for k, v in row.items()
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())
    return str(path)


def _model() -> tf.keras.Model:
    inputs = {k: tf.keras.Input(shape=(), name=k) for k in NUMERIC} | {
        k: tf.keras.Input(shape=(), name=k, dtype=tf.int64) for k in CATEGORICAL
    }
    hidden = tf.keras.Sequential(
        [
            tf.keras.layers.Dense(32, activation="relu"),
            tf.keras.layers.Dense(3, activation="softmax", name="output"),
        ],
        name="blocks",
    )
    features = FeatureVector(NUMERIC, CATEGORICAL, name="features")
    return tf.keras.Model(inputs, hidden(features(inputs)), name="tiny")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    train = _write(folder / "train.gz", _rows(600, seed=1))
    evaluation = _write(folder / "eval.gz", _rows(300, seed=2))
    return train, evaluation


@pytest.fixture(scope="module")
def trained(data):
    """A model trained to ~0.95+ on the synthetic classes."""
    tf.keras.utils.set_random_seed(0)
    train = mo.transformed_dataset(data[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=0)
    model = _model()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02), loss=mo.loss_for("classification"))
    model.fit(train, steps_per_epoch=300, epochs=1, verbose=0)
    return model


def _eval(data, batch=64):
    return mo.transformed_dataset(data[1], SPEC, LABEL, INPUTS, batch)


# ---- sizes and overrides ----------------------------------------------------------------------


def test_weights_bytes_counts_every_float32_value():
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
    assert mo.weights_bytes(model) == (4 * 3 + 3) * 4


def test_zeros_compress_better_than_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=1000).astype(np.float32)
    half_zero = noise.copy()
    half_zero[::2] = 0.0
    assert mo.gzip_bytes(half_zero.tobytes()) < mo.gzip_bytes(noise.tobytes())


def test_dir_bytes_sums_nested_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"x" * 100)
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 23)
    assert mo.dir_bytes(str(tmp_path)) == 123


def test_split_overrides_routes_the_optimize_prefix():
    trainer, optimizer = mo.split_overrides(
        {"units": "8", "optimize.target_sparsity": "0.7", "optimize.prune_steps": "5"}
    )
    assert trainer == {"units": "8"}
    assert optimizer == {"target_sparsity": "0.7", "prune_steps": "5"}


def test_score_accuracy_and_rmse():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert mo.score(probabilities, [0, 1, 1, 1], "classification") == 0.75
    assert mo.score(np.array([[1.0], [3.0]]), [2.0, 3.0], "regression") == pytest.approx(
        np.sqrt(0.5)
    )


def test_properties_flatten_variants_with_the_metric_name():
    report = {
        "metric": "accuracy",
        "eval_examples": 10,
        "float_weights_bytes": 400,
        "variants": {"int8": {"bytes": 100, "value": 0.9, "file": "model_int8.tflite"}},
    }
    flat = mo.properties(report)
    assert flat["int8_accuracy"] == 0.9
    assert flat["int8_bytes"] == 100
    assert flat["int8_file"] == "model_int8.tflite"
    assert flat["float_weights_bytes"] == 400 and flat["metric"] == "accuracy"
    assert flat["variants"] == "int8"


# ---- data -------------------------------------------------------------------------------------


def test_transformed_dataset_reads_inputs_by_name_and_flat_labels(data):
    batches = list(_eval(data, batch=128))
    assert [int(y.shape[0]) for _, y in batches] == [128, 128, 44]
    inputs, labels = batches[0]
    assert set(inputs) == set(INPUTS)  # the label and nothing else is dropped
    assert inputs["c_xf"].dtype == tf.int64 and labels.shape.rank == 1


def test_transformed_dataset_names_the_pattern_that_matched_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        mo.transformed_dataset(str(tmp_path / "nothing-here*"), SPEC, LABEL, INPUTS, 8)


def test_representative_dataset_yields_single_examples_by_input_name(data):
    train = mo.transformed_dataset(data[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=3)
    samples = list(mo.representative_dataset(train, 700)())
    assert len(samples) == 700  # more than the 600 rows: the shuffled data repeats
    assert all(set(s) == set(INPUTS) and s["a_xf"].shape == (1,) for s in samples)
    first = np.array([s["a_xf"][0] for s in samples[:20]])
    in_file_order = np.array([r["a_xf"] for r in _rows(600, seed=1)[:20]], dtype=np.float32)
    assert not np.allclose(first, in_file_order)  # calibration sees a shuffled sample


# ---- pruning and TFLite -----------------------------------------------------------------------


def test_keras_core_leaves_attached_layers_out(trained):
    loaded = tf.keras.Model(trained.inputs, trained.outputs)
    loaded.tft_layer = tf.keras.layers.Lambda(lambda x: x)  # as signatures.export attaches it
    assert "lambda" in [layer.name for layer in loaded.layers]
    assert [layer.name for layer in mo.keras_core(loaded).layers] == [
        layer.name for layer in trained.layers
    ]


def test_tflite_models_score_close_to_the_keras_model(trained, data, tmp_path):
    evaluation = _eval(data)
    float_accuracy = mo.keras_score(trained, evaluation, "classification")
    assert float_accuracy > 0.9
    dynamic = mo.to_tflite(trained)
    train = mo.transformed_dataset(data[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=1)
    int8 = mo.to_tflite(trained, mo.representative_dataset(train, 200))
    # Everything runs in int8 but the one-hot encoding (its int8 kernel is wrong).
    assert mo.float_ops(int8) == ["ONE_HOT"]
    assert "FULLY_CONNECTED" in mo.float_ops(dynamic)  # dynamic range: float activations
    dynamic_accuracy = mo.tflite_score(dynamic, evaluation, "classification", "blocks")
    int8_accuracy = mo.tflite_score(int8, evaluation, "classification", "blocks")
    assert abs(dynamic_accuracy - float_accuracy) <= 0.01
    assert abs(int8_accuracy - float_accuracy) <= 0.02
    # The int8 model really has int8 weights: its fully connected kernels are int8 tensors.
    details = tf.lite.Interpreter(model_content=int8).get_tensor_details()
    assert any(d["dtype"] == np.int8 for d in details)

    serving = tmp_path / "serving"
    serving.mkdir()
    (serving / "saved_model.pb").write_bytes(b"pb")
    dest = tmp_path / "out"
    report = {"metric": "accuracy", "variants": {}}
    mo.save(str(serving), str(dest), report, {mo.TFLITE_FILE: dynamic, mo.INT8_FILE: int8})
    assert (dest / "saved_model.pb").read_bytes() == b"pb"
    assert (dest / mo.INT8_FILE).read_bytes() == int8
    assert json.loads((dest / mo.REPORT_FILE).read_text()) == report
    reloaded = (dest / mo.TFLITE_FILE).read_bytes()
    assert mo.tflite_score(reloaded, evaluation, "classification") == dynamic_accuracy


def test_prune_reaches_the_target_sparsity_and_skips_custom_layers(trained, data):
    model = tf.keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    evaluation = _eval(data)
    before = mo.keras_score(model, evaluation, "classification")
    train = mo.transformed_dataset(data[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=2)
    params = mo.OptimizeParams(target_sparsity=0.6, prune_steps=60, learning_rate=3e-3)
    stripped, layers = mo.prune(model, train, "classification", params)
    assert layers == 2  # the two Dense layers inside the nested Sequential
    assert mo.sparsity(stripped) == pytest.approx(0.6, abs=0.02)
    assert isinstance(stripped.get_layer("features"), FeatureVector)  # not wrapped, kept
    assert mo.weights_gzip_bytes(stripped) < mo.weights_gzip_bytes(trained)
    assert mo.keras_score(stripped, evaluation, "classification") >= before - 0.05


class _Subclassed(tf.keras.Model):
    """A subclassed model on a dict of features, like trainers/subclassed."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.features = FeatureVector(NUMERIC, CATEGORICAL)
        self.hidden = tf.keras.layers.Dense(32, activation="relu")
        self.head = tf.keras.layers.Dense(3, activation="softmax")

    def call(self, inputs):
        return self.head(self.hidden(self.features(inputs)))


def test_subclassed_models_are_quantised_with_named_inputs_but_not_pruned(data):
    tf.keras.utils.set_random_seed(0)
    model = _Subclassed()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02), loss=mo.loss_for("classification"))
    train = mo.transformed_dataset(data[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=0)
    model.fit(train, steps_per_epoch=200, epochs=1, verbose=0)
    assert not mo.is_graph_model(model) and mo.keras_core(model) is model
    evaluation = _eval(data)
    float_accuracy = mo.keras_score(model, evaluation, "classification")
    int8 = mo.to_tflite(model, mo.representative_dataset(train, 100))
    signature = tf.lite.Interpreter(model_content=int8).get_signature_list()["serving_default"]
    assert sorted(signature["inputs"]) == sorted(INPUTS)  # not one `args_0`
    assert abs(mo.tflite_score(int8, evaluation, "classification") - float_accuracy) <= 0.02
