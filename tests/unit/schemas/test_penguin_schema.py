import pandas as pd
import pytest
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipelines.home import Home
from pipelines.tasks import get
from trainers.penguin import data
from trainers.penguin import features as penguin_features
from trainers.spec import SCHEMAS_DIR

SCHEMA = SCHEMAS_DIR / "penguin" / "schema.pbtxt"


@pytest.fixture(scope="module")
def schema():
    return text_format.Parse(SCHEMA.read_text(), schema_pb2.Schema())


def test_task_uses_this_schema(tmp_path):
    assert get("penguin", Home(tmp_path)).schema_path == SCHEMA


def test_schema_reader_parses():
    from tfx.utils import io_utils

    assert len(io_utils.SchemaReader().read(str(SCHEMA)).feature) == 7


def test_features_match_columns(schema):
    assert {f.name for f in schema.feature} == set(penguin_features.COLUMNS)


def test_types_match_features(schema):
    types = {f.name: f.type for f in schema.feature}
    assert all(types[c] == schema_pb2.FLOAT for c in penguin_features.NUMERIC)
    assert all(types[c] == schema_pb2.BYTES for c in penguin_features.CATEGORICAL)
    assert types[penguin_features.LABEL] == schema_pb2.BYTES


def test_label_not_served(schema):
    environments = {f.name: list(f.not_in_environment) for f in schema.feature}
    assert environments[penguin_features.LABEL] == ["SERVING"]
    assert all(not v for k, v in environments.items() if k != penguin_features.LABEL)
    assert set(schema.default_environment) == {"TRAINING", "SERVING"}


@pytest.fixture(scope="module")
def default_csv(tmp_path_factory):
    return data.write(tmp_path_factory.mktemp("penguin"))


def _anomalies(csv_path, schema):
    import tensorflow_data_validation as tfdv

    stats = tfdv.generate_statistics_from_csv(data_location=str(csv_path))
    return tfdv.validate_statistics(stats, schema)


def test_default_data_has_no_anomalies(default_csv, schema):
    assert dict(_anomalies(default_csv, schema).anomaly_info) == {}


def test_unknown_island_is_an_anomaly(default_csv, schema, tmp_path):
    frame = pd.read_csv(default_csv)
    frame.loc[5, "island"] = "Atlantis"
    bad = tmp_path / "data.csv"
    frame.to_csv(bad, index=False)
    anomalies = _anomalies(bad, schema)
    assert set(anomalies.anomaly_info) == {"island"}
    assert "Atlantis" in anomalies.anomaly_info["island"].description
