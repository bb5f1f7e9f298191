import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_transform.tf_metadata import schema_utils
from tensorflow_transform.tf_metadata.dataset_metadata import DatasetMetadata

from trainers.common import transforms
from trainers.penguin import features as penguin_features
from trainers.penguin.preprocessing import preprocessing_fn as penguin_preprocessing_fn
from trainers.spec import SCHEMAS_DIR

NUM = [1.0, 2.0, None, 4.0, 10.0, math.nan, 3.0, 5.0]
CAT = ["a", "b", "a", None, "a", "b", "c", "a"]
CLS = ["p", "q", "p", "s", "p", "q", "p", "s"]
REG = [1.5, 2.5, 3.0, 4.0, 0.5, 7.25, 1.0, 2.0]

SPEC = {
    "num": tf.io.VarLenFeature(tf.float32),
    "cat": tf.io.VarLenFeature(tf.string),
    "cls": tf.io.FixedLenFeature([], tf.string),
    "reg": tf.io.FixedLenFeature([], tf.float32),
}


def _rows():
    return [
        {"num": [] if n is None else [n], "cat": [] if c is None else [c], "cls": y, "reg": r}
        for n, c, y, r in zip(NUM, CAT, CLS, REG, strict=True)
    ]


def _preprocessing_fn(inputs):
    outputs = transforms.tabular(inputs, "cls", "classification", features=["num", "cat"])
    outputs["reg_xf"] = transforms.tabular(inputs, "reg", "regression", features=[])["reg_xf"]
    return outputs


def _metadata(spec):
    return DatasetMetadata(schema_utils.schema_from_feature_spec(spec))


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    unseen = [{"num": [2.0], "cat": ["zzz"], "cls": "p", "reg": 1.0}]
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (rows, _), transform_fn = (_rows(), _metadata(SPEC)) | tft_beam.AnalyzeAndTransformDataset(
            _preprocessing_fn
        )
        new_rows, _ = ((unseen, _metadata(SPEC)), transform_fn) | tft_beam.TransformDataset()
    return rows, new_rows


def _column(rows, key):
    return np.array([row[key] for row in rows])


def test_output_keys(transformed):
    rows, _ = transformed
    assert set(rows[0]) == {"num_xf", "num_na", "cat_xf", "cls_xf", "reg_xf"}


def test_numeric_z_score_over_present_values(transformed):
    rows, _ = transformed
    present = _column(rows, "num_na") == 0
    z = _column(rows, "num_xf")[present]
    assert present.sum() == 6
    assert z.mean() == pytest.approx(0.0, abs=1e-5)
    assert z.std() == pytest.approx(1.0, abs=1e-5)
    values = np.array([n for n in NUM if n is not None and not math.isnan(n)])
    assert z == pytest.approx((values - values.mean()) / values.std(), abs=1e-5)


@pytest.mark.parametrize("row", [2, 5])
def test_missing_or_nan_numeric_imputed_with_mean(transformed, row):
    rows, _ = transformed
    assert rows[row]["num_xf"] == 0.0
    assert rows[row]["num_na"] == 1.0


def test_strings_become_ids(transformed):
    rows, _ = transformed
    ids = _column(rows, "cat_xf")
    assert ids.dtype.kind == "i"
    by_value = {}
    for value, idx in zip(CAT, ids, strict=True):
        by_value.setdefault(value, set()).add(int(idx))
    assert all(len(found) == 1 for found in by_value.values())
    assert len({next(iter(found)) for found in by_value.values()}) == len(by_value)
    assert by_value["a"] == {0}


def test_missing_string_gets_an_id(transformed):
    rows, _ = transformed
    missing = int(rows[3]["cat_xf"])
    assert 0 <= missing <= len({c for c in CAT if c is not None})


def test_unseen_string_goes_to_oov_bucket(transformed):
    _, new_rows = transformed
    # The vocabulary holds the seen values plus the missing token; OOV comes right after it.
    assert int(new_rows[0]["cat_xf"]) == len({c for c in CAT if c is not None}) + 1


def test_missing_string_is_its_own_token(transformed):
    rows, new_rows = transformed
    assert int(rows[3]["cat_xf"]) != int(new_rows[0]["cat_xf"])


def test_classification_label_ids(transformed):
    rows, _ = transformed
    ids = _column(rows, "cls_xf")
    assert sorted(set(ids.tolist())) == [0, 1, 2]
    assert ids[CLS.index("p")] == 0
    assert len({(c, i) for c, i in zip(CLS, ids, strict=True)}) == 3


def test_regression_label_stays_float(transformed):
    rows, _ = transformed
    values = _column(rows, "reg_xf")
    assert values.dtype.kind == "f"
    assert values == pytest.approx(REG)


def test_unknown_feature_rejected():
    inputs = {"a": tf.constant([1.0]), "y": tf.constant(["p"])}
    with pytest.raises(ValueError, match="not in the schema"):
        transforms.tabular(inputs, "y", "classification", features=["a", "b"])


def test_densify_fills_missing():
    sparse = tf.SparseTensor([[0, 0], [2, 0]], [1.0, 3.0], [3, 1])
    assert transforms.densify(sparse, -1.0).numpy().tolist() == [1.0, -1.0, 3.0]


def test_penguin_preprocessing_fn_keys(tmp_path):
    import palmerpenguins

    schema = text_format.Parse(
        (SCHEMAS_DIR / "penguin" / "schema.pbtxt").read_text(), schema_pb2.Schema()
    )
    spec = schema_utils.schema_as_feature_spec(schema).feature_spec
    frame = palmerpenguins.load_penguins()[list(penguin_features.COLUMNS)].head(12)
    rows = [
        {k: [] if v != v else [v] for k, v in record.items()}
        for record in frame.to_dict(orient="records")
    ]
    with tft_beam.Context(temp_dir=str(tmp_path)):
        (out, _), _ = (rows, _metadata(spec)) | tft_beam.AnalyzeAndTransformDataset(
            penguin_preprocessing_fn
        )
    numeric = penguin_features.NUMERIC
    expected = {f"{c}_xf" for c in penguin_features.COLUMNS} | {f"{c}_na" for c in numeric}
    assert set(out[0]) == expected
    assert len(out) == 12
    assert {int(r["species_xf"]) for r in out} == {0}
