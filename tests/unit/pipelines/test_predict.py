import pandas as pd
import pytest
import tensorflow as tf

from pipelines import predict
from pipelines.errors import TaskError

FEATURES = {"count": "INT", "weight": "FLOAT", "colour": "BYTES"}


def _frame(**columns):
    return pd.DataFrame(columns, dtype=str)


def _parse(serialized):
    example = tf.train.Example()
    example.ParseFromString(serialized)
    return example.features.feature


def test_conversions():
    frame = _frame(count=["3", "4.0"], weight=["1.5", "-2"], colour=["red", "big blue"])
    first, second = (_parse(e) for e in predict.to_examples(frame, FEATURES, "in.csv"))
    assert list(first["count"].int64_list.value) == [3]
    assert list(second["count"].int64_list.value) == [4]
    assert list(first["weight"].float_list.value) == [1.5]
    assert list(second["weight"].float_list.value) == [-2.0]
    assert list(second["colour"].bytes_list.value) == [b"big blue"]


def test_empty_cells_omitted():
    frame = _frame(count=["", "1"], weight=["  ", "2"], colour=["", "x"])
    first, second = (_parse(e) for e in predict.to_examples(frame, FEATURES, "in.csv"))
    assert len(first) == 0
    assert set(second) == set(FEATURES)


def test_nan_float_omitted():
    frame = _frame(count=["1"], weight=["nan"], colour=["x"])
    (example,) = (_parse(e) for e in predict.to_examples(frame, FEATURES, "in.csv"))
    assert "weight" not in example


def test_extra_columns_ignored():
    frame = _frame(count=["1"], weight=["2"], colour=["x"], species=["Adelie"])
    (example,) = (_parse(e) for e in predict.to_examples(frame, FEATURES, "in.csv"))
    assert set(example) == set(FEATURES)


def test_bad_float_names_file_row_and_column():
    frame = _frame(count=["1", "2", "3"], weight=["1", "2", "abc"], colour=["x", "y", "z"])
    with pytest.raises(TaskError) as err:
        predict.to_examples(frame, FEATURES, "in.csv")
    message = str(err.value)
    assert message.startswith("in.csv: row 4, column 'weight': 'abc' is not a number")


def test_bad_int():
    frame = _frame(count=["2.5"], weight=["1"], colour=["x"])
    with pytest.raises(TaskError, match="row 2, column 'count': '2.5' is not an integer"):
        predict.to_examples(frame, FEATURES, "in.csv")


def test_missing_column_listed():
    frame = _frame(count=["1"])
    with pytest.raises(TaskError) as err:
        predict.to_examples(frame, FEATURES, "in.csv")
    message = str(err.value)
    assert "missing column(s) weight, colour" in message
    assert "the header is: count" in message


def test_columns_matched_through_feature_name():
    frame = pd.DataFrame({"size class": ["big"], "1x": ["2"]}, dtype=str)
    features = {"size_class": "BYTES", "f_1x": "FLOAT"}
    (example,) = (_parse(e) for e in predict.to_examples(frame, features, "in.csv"))
    assert list(example["size_class"].bytes_list.value) == [b"big"]
    assert list(example["f_1x"].float_list.value) == [2.0]


def test_load_rows_keeps_strings(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("count, colour\n007,NA\n,x\n")
    frame = predict.load_rows(src)
    assert list(frame.columns) == ["count", "colour"]
    assert frame["count"].tolist() == ["007", ""]
    assert frame["colour"].tolist() == ["NA", "x"]


def test_load_rows_empty_file(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("")
    with pytest.raises(TaskError, match="the file is empty") as err:
        predict.load_rows(src)
    assert "in.csv" in str(err.value)


def test_load_rows_header_only(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n")
    with pytest.raises(TaskError, match="no data rows"):
        predict.load_rows(src)


def test_load_rows_missing_file(tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        predict.load_rows(tmp_path / "absent.csv")
