import math

import numpy as np
import pytest
import tensorflow as tf

from components import model_gate
from components.model_gate import Gated


def _examples(root: str, split: str, labels) -> None:
    folder = f"{root}/Split-{split}"
    tf.io.gfile.makedirs(folder)
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(f"{folder}/data.gz", options) as writer:
        for label in labels:
            feature = {"x": tf.train.Feature(float_list=tf.train.FloatList(value=[1.0]))}
            if isinstance(label, str):
                feature["y"] = tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[label.encode()])
                )
            elif label is not None:
                feature["y"] = tf.train.Feature(float_list=tf.train.FloatList(value=[label]))
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


@pytest.mark.parametrize("root", ["ram://gate-labels", None])
def test_labels_are_read_from_a_split_skipping_unlabelled_rows(root, tmp_path):
    root = root or str(tmp_path)
    _examples(root, "train", ["a", "b", None, "a"])
    np.testing.assert_array_equal(model_gate.labels(root, "train", "y"), ["a", "b", "a"])
    with pytest.raises(FileNotFoundError, match="Split-test"):
        model_gate.labels(root, "test", "y")
    with pytest.raises(ValueError, match="no example has the label 'z'"):
        model_gate.labels(root, "train", "z")


def test_naive_classifier_is_the_training_majority_scored_on_test():
    train, test = np.array(["a", "a", "b"]), np.array(["a", "b", "b", "b"])
    assert model_gate.naive_value("accuracy", train, test) == 0.25


def test_naive_sequence_is_the_most_frequent_training_target():
    train, test = np.array(["42", "42", "7"]), np.array(["42", "8", "9", "10"])
    assert model_gate.naive_value("exact_match", train, test) == 0.25


def test_naive_regressor_is_the_training_mean_scored_on_test():
    train, test = np.array([1.0, 3.0]), np.array([2.0, 4.0])
    assert model_gate.naive_value("rmse", train, test) == pytest.approx(math.sqrt(2.0))
    assert math.isnan(model_gate.naive_value("rmse", np.array([]), test))


def test_checks_join_the_evaluator_values_and_the_naive_predictor(tmp_path):
    root = str(tmp_path)
    _examples(root, "train", [1.0, 1.0, 3.0, 3.0])
    _examples(root, "test", [2.0, 2.0])
    gated = [Gated("rmse", "", "rmse", "y", False, threshold=5.0, margin=0.5)]
    values = {("candidate", "", "rmse"): 0.2, ("baseline", "", "rmse"): 0.3}
    (check,) = model_gate.checks(gated, values, root, "train", "test")
    assert (check.value, check.naive, check.baseline) == (0.2, 0.0, 0.3)
    # The naive predictor (the training mean, 2.0) is perfect here: nothing beats it by 0.5.
    assert check.failures() and "naive" in check.failures()[0]


def test_a_missing_candidate_value_fails_the_check(tmp_path):
    root = str(tmp_path)
    _examples(root, "train", ["a", "b"])
    _examples(root, "test", ["a"])
    gated = [Gated("accuracy", "", "accuracy", "y", True, threshold=0.5, margin=0.01)]
    (check,) = model_gate.checks(gated, {}, root, "train", "test")
    assert check.value is None and "no value" in check.failures()[0]


def _windows(root: str, split: str, rows) -> None:
    folder = f"{root}/Split-{split}"
    tf.io.gfile.makedirs(folder)
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(f"{folder}/data.gz", options) as writer:
        for window, target in rows:
            feature = {"w": tf.train.Feature(float_list=tf.train.FloatList(value=window))}
            if target is not None:
                feature["y"] = tf.train.Feature(float_list=tf.train.FloatList(value=[target]))
            writer.write(
                tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
            )


def test_a_lagged_naive_forecast_is_read_from_each_test_window(tmp_path):
    root = str(tmp_path)
    _windows(
        root, "test", [([1.0, 2.0, 3.0], 4.0), ([5.0, 6.0, 7.0], 5.0), ([1.0, 1.0, 1.0], None)]
    )
    labels, last = model_gate.lagged(root, "test", "y", "w", 1)
    np.testing.assert_array_equal(labels, [4.0, 5.0])
    np.testing.assert_array_equal(last, [3.0, 7.0])
    _, seasonal = model_gate.lagged(root, "test", "y", "w", 3)
    np.testing.assert_array_equal(seasonal, [1.0, 5.0])
    with pytest.raises(ValueError, match="4 steps back"):
        model_gate.lagged(root, "test", "y", "w", 4)


def test_a_factor_bar_is_that_multiple_of_the_last_value_rmse(tmp_path):
    root = str(tmp_path)
    # Last-value errors 1 and 3: RMSE sqrt(5); the bar at 0.5x is sqrt(5)/2 = 1.118.
    _windows(root, "test", [([0.0, 2.0], 3.0), ([0.0, 7.0], 4.0)])
    gated = [Gated("rmse", "", "rmse", "y", False, 9.0, 0.0, "w", 1, 0.5)]
    (good,) = model_gate.checks(gated, {("candidate", "", "rmse"): 1.1}, root, "train", "test")
    assert good.naive == pytest.approx(math.sqrt(5.0)) and good.failures() == []
    assert good.naive - good.margin == pytest.approx(math.sqrt(5.0) / 2)
    (bad,) = model_gate.checks(gated, {("candidate", "", "rmse"): 1.2}, root, "train", "test")
    assert "0.5x its 2.236 (1.118)" in bad.failures()[0]
