"""trainers.common.optimization on a tiny Keras model with named inputs and a custom layer.

The data is written as gzipped TFRecords of transformed tf.Examples, as Transform writes them;
the model looks like the course's tabular MLP (named inputs → FeatureVector → Dense).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from trainers import manifest
from trainers.common.layers import FeatureVector
from trainers.common.optimization import conversion, data, job, pruning, scoring, sizes
from trainers.common.optimization.params import OptimizeParams

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
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("examples")
    train = _write(folder / "train.gz", _rows(600, seed=1))
    evaluation = _write(folder / "eval.gz", _rows(300, seed=2))
    return train, evaluation


@pytest.fixture(scope="module")
def trained(files):
    """A model trained to ~0.95+ on the synthetic classes."""
    tf.keras.utils.set_random_seed(0)
    train = data.transformed_dataset(files[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=0)
    model = _model()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02), loss=pruning.loss_for("classification"))
    model.fit(train, steps_per_epoch=300, epochs=1, verbose=0)
    return model


def _eval(files, batch=64):
    return data.transformed_dataset(files[1], SPEC, LABEL, INPUTS, batch)


# ---- sizes, reports, files -------------------------------------------------------------------


def test_weights_bytes_counts_every_float32_value():
    model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(3)])
    assert sizes.weights_bytes(model) == (4 * 3 + 3) * 4


def test_zeros_compress_better_than_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=1000).astype(np.float32)
    half_zero = noise.copy()
    half_zero[::2] = 0.0
    assert sizes.gzip_bytes(half_zero.tobytes()) < sizes.gzip_bytes(noise.tobytes())


def test_dir_bytes_sums_nested_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.bin").write_bytes(b"x" * 100)
    (tmp_path / "sub" / "b.bin").write_bytes(b"y" * 23)
    assert sizes.dir_bytes(str(tmp_path)) == 123


def test_score_accuracy_and_rmse():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert scoring.score(probabilities, [0, 1, 1, 1], "classification") == 0.75
    assert scoring.score(np.array([[1.0], [3.0]]), [2.0, 3.0], "regression") == pytest.approx(
        np.sqrt(0.5)
    )


def test_properties_flatten_variants_with_the_metric_name():
    report = {
        "metric": "accuracy",
        "eval_examples": 10,
        "float_weights_bytes": 400,
        "variants": {"int8": {"bytes": 100, "value": 0.9, "file": "model_int8.tflite"}},
    }
    flat = job.properties(report)
    assert flat["int8_accuracy"] == 0.9
    assert flat["int8_bytes"] == 100
    assert flat["int8_file"] == "model_int8.tflite"
    assert flat["float_weights_bytes"] == 400 and flat["metric"] == "accuracy"
    assert flat["variants"] == "int8"


def test_the_report_sits_beside_the_model_manifest():
    assert os.path.dirname(job.REPORT_FILE) == os.path.dirname(manifest.FILE) == "assets.extra"
    assert os.path.basename(job.REPORT_FILE) == "optimization.json"


def test_copy_tree_copies_nested_files_and_empty_folders_and_replaces_the_destination(tmp_path):
    src = tmp_path / "serving"
    (src / "variables").mkdir(parents=True)
    (src / "assets").mkdir()  # an empty folder of a SavedModel
    (src / "saved_model.pb").write_bytes(b"pb")
    (src / "variables" / "variables.index").write_bytes(b"ix")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "stale.txt").write_text("from an earlier attempt")
    job.copy_tree(str(src) + "/", str(dest))
    assert sorted(str(p.relative_to(dest)) for p in dest.rglob("*")) == [
        "assets",
        "saved_model.pb",
        "variables",
        "variables/variables.index",
    ]
    assert (dest / "variables" / "variables.index").read_bytes() == b"ix"


# ---- data -------------------------------------------------------------------------------------


def test_transformed_dataset_reads_inputs_by_name_and_flat_labels(files):
    batches = list(_eval(files, batch=128))
    assert [int(y.shape[0]) for _, y in batches] == [128, 128, 44]
    inputs, labels = batches[0]
    assert set(inputs) == set(INPUTS)  # the label and nothing else is dropped
    assert inputs["c_xf"].dtype == tf.int64 and labels.shape.rank == 1


def test_transformed_dataset_names_the_pattern_that_matched_nothing(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        data.transformed_dataset(str(tmp_path / "nothing-here*"), SPEC, LABEL, INPUTS, 8)


def test_representative_dataset_yields_single_examples_by_input_name(files):
    train = data.transformed_dataset(files[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=3)
    samples = list(data.representative_dataset(train, 700)())
    assert len(samples) == 700  # more than the 600 rows: the shuffled data repeats
    assert all(set(s) == set(INPUTS) and s["a_xf"].shape == (1,) for s in samples)
    first = np.array([s["a_xf"][0] for s in samples[:20]])
    in_file_order = np.array([r["a_xf"] for r in _rows(600, seed=1)[:20]], dtype=np.float32)
    assert not np.allclose(first, in_file_order)  # calibration sees a shuffled sample


# ---- pruning and TFLite -----------------------------------------------------------------------


def test_keras_core_leaves_attached_layers_out(trained):
    loaded = tf.keras.Model(trained.inputs, trained.outputs)
    # As signatures.export attaches it; named, since Keras numbers unnamed Lambdas per process.
    loaded.tft_layer = tf.keras.layers.Lambda(lambda x: x, name="transform")
    assert "transform" in [layer.name for layer in loaded.layers]
    assert [layer.name for layer in pruning.keras_core(loaded).layers] == [
        layer.name for layer in trained.layers
    ]


def test_tflite_models_score_close_to_the_keras_model(trained, files, tmp_path):
    evaluation = _eval(files)
    float_accuracy = scoring.keras_score(trained, evaluation, "classification")
    assert float_accuracy > 0.9
    dynamic = conversion.to_tflite(trained)
    train = data.transformed_dataset(files[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=1)
    int8 = conversion.to_tflite(trained, data.representative_dataset(train, 200))
    # Everything runs in int8 but the one-hot encoding (its int8 kernel is wrong).
    assert conversion.float_ops(int8) == ["ONE_HOT"]
    assert "FULLY_CONNECTED" in conversion.float_ops(dynamic)  # dynamic range: float activations
    dynamic_accuracy = scoring.tflite_score(dynamic, evaluation, "classification", "blocks")
    int8_accuracy = scoring.tflite_score(int8, evaluation, "classification", "blocks")
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
    job.save(str(serving), str(dest), report, {job.TFLITE_FILE: dynamic, job.INT8_FILE: int8})
    assert (dest / "saved_model.pb").read_bytes() == b"pb"
    assert (dest / job.INT8_FILE).read_bytes() == int8
    assert json.loads((dest / job.REPORT_FILE).read_text()) == report
    reloaded = (dest / job.TFLITE_FILE).read_bytes()
    assert scoring.tflite_score(reloaded, evaluation, "classification") == dynamic_accuracy


def test_prune_reaches_the_target_sparsity_and_skips_custom_layers(trained, files):
    model = tf.keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    evaluation = _eval(files)
    before = scoring.keras_score(model, evaluation, "classification")
    train = data.transformed_dataset(files[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=2)
    params = OptimizeParams(target_sparsity=0.6, prune_steps=60, learning_rate=3e-3)
    stripped, layers = pruning.prune(model, train, "classification", params)
    assert layers == 2  # the two Dense layers inside the nested Sequential
    assert sizes.sparsity(stripped) == pytest.approx(0.6, abs=0.02)
    assert isinstance(stripped.get_layer("features"), FeatureVector)  # not wrapped, kept
    assert sizes.weights_gzip_bytes(stripped) < sizes.weights_gzip_bytes(trained)
    assert scoring.keras_score(stripped, evaluation, "classification") >= before - 0.05


class _Subclassed(tf.keras.Model):
    """A subclassed model on a dict of features, like trainers/subclassed."""

    def __init__(self):
        super().__init__(name="subclassed")
        self.features = FeatureVector(NUMERIC, CATEGORICAL)
        self.hidden = tf.keras.layers.Dense(32, activation="relu")
        self.head = tf.keras.layers.Dense(3, activation="softmax")

    def call(self, inputs):
        return self.head(self.hidden(self.features(inputs)))


def test_subclassed_models_are_quantised_with_named_inputs_but_not_pruned(files):
    tf.keras.utils.set_random_seed(0)
    model = _Subclassed()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.02), loss=pruning.loss_for("classification"))
    train = data.transformed_dataset(files[0], SPEC, LABEL, INPUTS, 32, shuffle_seed=0)
    model.fit(train, steps_per_epoch=200, epochs=1, verbose=0)
    assert not pruning.is_graph_model(model) and pruning.keras_core(model) is model
    evaluation = _eval(files)
    float_accuracy = scoring.keras_score(model, evaluation, "classification")
    int8 = conversion.to_tflite(model, data.representative_dataset(train, 100))
    signature = tf.lite.Interpreter(model_content=int8).get_signature_list()["serving_default"]
    assert sorted(signature["inputs"]) == sorted(INPUTS)  # not one `args_0`
    assert abs(scoring.tflite_score(int8, evaluation, "classification") - float_accuracy) <= 0.02
