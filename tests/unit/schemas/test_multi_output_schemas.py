"""The curated schemas of wide_deep and multi_io, checked with TFDV against their own data."""

import pandas as pd
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipelines.home import Home
from pipelines.tasks import get
from trainers.multi_io import data as reviews_data
from trainers.multi_io import features as reviews
from trainers.spec import SCHEMAS_DIR
from trainers.wide_deep import data as cars_data
from trainers.wide_deep import features as cars

TASKS = {
    "wide_deep": (cars_data, cars.COLUMNS, {cars.LABEL}),
    "multi_io": (reviews_data, reviews.COLUMNS, {reviews.CLASS, reviews.VALUE}),
}


def _schema(task):
    path = SCHEMAS_DIR / task / "schema.pbtxt"
    return text_format.Parse(path.read_text(), schema_pb2.Schema())


@pytest.fixture(scope="module", params=sorted(TASKS))
def task(request, tmp_path_factory):
    module, _, _ = TASKS[request.param]
    return request.param, module.write(tmp_path_factory.mktemp(request.param))


def _anomalies(csv_path, schema):
    import tensorflow_data_validation as tfdv

    stats = tfdv.generate_statistics_from_csv(data_location=str(csv_path))
    return tfdv.validate_statistics(stats, schema)


def test_task_uses_its_schema_and_it_covers_the_columns(task, tmp_path):
    name, _ = task
    assert get(name, Home(tmp_path)).schema_path == SCHEMAS_DIR / name / "schema.pbtxt"
    _, columns, _ = TASKS[name]
    assert {f.name for f in _schema(name).feature} == set(columns)


def test_labels_are_not_served(task):
    name, _ = task
    _, _, labels = TASKS[name]
    served = {f.name for f in _schema(name).feature if "SERVING" not in f.not_in_environment}
    assert labels.isdisjoint(served) and len(served) == len(TASKS[name][1]) - len(labels)


def test_default_data_has_no_anomalies(task):
    name, csv_path = task
    assert dict(_anomalies(csv_path, _schema(name)).anomaly_info) == {}


@pytest.mark.parametrize(
    ("name", "column", "value"),
    [
        ("wide_deep", "Origin", "Atlantis"),
        ("wide_deep", "Weight_in_lbs", 35),  # tonnes or a typo, not pounds
        ("multi_io", "sentiment", "meh"),
        ("multi_io", "rating", 7.0),
    ],
)
def test_bad_values_are_anomalies(name, column, value, tmp_path):
    module, _, _ = TASKS[name]
    frame = pd.read_csv(module.write(tmp_path / "data"))
    frame[column] = frame[column].astype(object)
    frame.loc[3, column] = value
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    assert set(_anomalies(bad, _schema(name)).anomaly_info) == {column}
