"""`kfx predict` input for fixed-shape features (images): one packed cell or one column each."""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from pipelines import predict
from pipelines.errors import TaskError

FEATURES = {"pixels": "FLOAT", "note": "BYTES"}
SHAPES = {"pixels": [2, 3]}
IMAGE = np.arange(6.0)


def _pixels(serialized):
    example = tf.train.Example.FromString(serialized)
    return list(example.features.feature["pixels"].float_list.value)


def test_one_cell_with_all_values_separated_by_spaces():
    frame = pd.DataFrame({"pixels": ["0 1 2 3 4 5", "5;4;3,2 1  0"], "note": ["a", "b"]})
    first, second = predict.to_examples(frame, FEATURES, "in.csv", SHAPES)
    assert _pixels(first) == IMAGE.tolist()
    assert _pixels(second) == IMAGE[::-1].tolist()


def test_one_column_per_value_in_row_order():
    frame = pd.DataFrame({f"pixels_{i}": [str(v)] for i, v in enumerate(IMAGE)} | {"note": ["a"]})
    (example,) = predict.to_examples(frame, FEATURES, "in.csv", SHAPES)
    assert _pixels(example) == IMAGE.tolist()


def test_missing_image_columns_named_with_both_layouts():
    frame = pd.DataFrame({"pixels_0": ["1"], "note": ["a"]}, dtype=str)
    with pytest.raises(TaskError, match=r"missing column\(s\) pixels \(or pixels_0..pixels_5\)"):
        predict.to_examples(frame, FEATURES, "in.csv", SHAPES)


@pytest.mark.parametrize("cell, found", [("1 2 3", 3), ("", 0), ("1 2 3 4 5 6 7", 7)])
def test_wrong_number_of_values_names_row_and_column(cell, found):
    frame = pd.DataFrame({"pixels": ["0 1 2 3 4 5", cell], "note": ["a", "b"]})
    with pytest.raises(TaskError) as err:
        predict.to_examples(frame, FEATURES, "in.csv", SHAPES)
    assert str(err.value).startswith("in.csv: row 3, column 'pixels': needs 6 numbers")
    assert f"found {found}" in str(err.value)


def test_bad_value_in_an_image():
    frame = pd.DataFrame({"pixels": ["0 1 x 3 4 5"], "note": ["a"]})
    with pytest.raises(TaskError, match="row 2, column 'pixels': 'x' is not a number"):
        predict.to_examples(frame, FEATURES, "in.csv", SHAPES)


def test_without_shapes_a_feature_is_one_value():
    frame = pd.DataFrame({"pixels": ["2.5"], "note": ["a"]})
    (example,) = predict.to_examples(frame, FEATURES, "in.csv")
    assert _pixels(example) == [2.5]
