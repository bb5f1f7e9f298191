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


class _RunsCode:
    """Unpickling this would create `marker`: proof a loader executed the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_load_rows_refuses_a_pickle_without_loading_it(tmp_path, protocol):
    import pickle

    marker = tmp_path / "executed"
    src = tmp_path / "rows.pkl"
    src.write_bytes(pickle.dumps(_RunsCode(marker), protocol=protocol))
    with pytest.raises(TaskError, match="not a CSV file \\(a Python pickle\\)") as err:
        predict.load_rows(src)
    assert str(src) in str(err.value) and not marker.exists()


def test_load_rows_names_a_file_that_is_not_utf8(tmp_path):
    src = tmp_path / "latin1.csv"
    src.write_bytes("x,name\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(TaskError, match="row 2, column 'name'.*not UTF-8"):
        predict.load_rows(src)


def test_load_rows_missing_file(tmp_path):
    with pytest.raises(TaskError, match="no such file"):
        predict.load_rows(tmp_path / "absent.csv")


class _Doubler(tf.Module):
    """serving_default: prediction = 2 * weight (a regressor's signature outputs)."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        spec = {"weight": tf.io.FixedLenFeature([], tf.float32, default_value=0.0)}
        value = 2.0 * tf.io.parse_example(examples, spec)["weight"]
        return {"prediction": value, "score": value}


@pytest.fixture(scope="module")
def doubler(tmp_path_factory):
    from trainers import manifest

    folder = tmp_path_factory.mktemp("served") / "1"
    module = _Doubler()
    tf.saved_model.save(module, str(folder), signatures={"serving_default": module.serve})
    found = manifest.Manifest(kind=manifest.EXAMPLES, features={"weight": "FLOAT"}, label="y")
    manifest.write(str(folder), found)
    return folder, found


def test_bad_rows_are_listed_and_the_others_predicted(doubler):
    folder, found = doubler
    run = predict.examples(folder, found)
    bad = {}
    out = run(_frame(weight=["1.5", "heavy", "2"]), "in.csv", bad=bad)
    assert out["prediction"].fillna(-1).tolist() == [3.0, -1, 4.0]  # the bad row: empty
    assert bad == {
        3: "in.csv: row 3, column 'weight': 'heavy' is not a number; fix the cell or leave it empty"
    }
    with pytest.raises(TaskError, match="row 3"):
        run(_frame(weight=["1.5", "heavy"]), "in.csv")  # strict: the first bad row refuses


def test_kfx_predict_lists_bad_rows_and_strict_refuses_the_file(doubler, tmp_path, monkeypatch):
    import contextlib
    import io

    from pipelines import cli, metadata

    folder, _ = doubler
    monkeypatch.setattr(metadata, "latest_pushed_model", lambda home, task: folder)
    rows = tmp_path / "rows.csv"
    rows.write_text("weight\n1\nx\n3\n")

    def kfx(*args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["--home", str(tmp_path / "home"), "predict", "penguin", *args])
        return code, out.getvalue(), err.getvalue()

    code, out, err = kfx("--input", str(rows))
    assert code == 0
    assert out.splitlines() == ["weight,prediction,score", "1,2.0,2.0", "x,,", "3,6.0,6.0"]
    assert f"{rows}: 1 of 3 rows could not be predicted" in err
    assert f"{rows}: row 3, column 'weight': 'x' is not a number" in err
    code, out, err = kfx("--input", str(rows), "--strict")
    assert code == 2 and out == "" and "row 3, column 'weight'" in err
    rows.write_text("weight\nx\ny\n")
    code, out, err = kfx("--input", str(rows))
    assert code == 2 and "2 of 2 rows could not be predicted" in err


def test_an_input_column_named_like_an_answer_is_kept():
    import pandas as pd

    from pipelines import predict

    frame = pd.DataFrame({"review": ["a", "b"], "score": ["great", "other"]})
    out = predict._fill(frame, {"prediction": ["great", "great"], "score": [0.9, 0.6]}, None, 2)
    assert out["score"].tolist() == ["great", "other"]
    assert out["predicted_score"].tolist() == [0.9, 0.6]
    assert out["prediction"].tolist() == ["great", "great"]
    assert predict.answer_column("x", ["x", "predicted_x"]) == "predicted_predicted_x"
