import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.types import standard_artifacts

from components import anomaly_gate
from components.anomaly_gate import Anomaly


def _write(uri, split, **columns):
    anomalies = anomalies_pb2.Anomalies()
    for column, (short, description) in columns.items():
        info = anomalies.anomaly_info[column]
        info.description = description
        info.short_description = short
        reason = info.reason.add()
        reason.type = anomalies_pb2.AnomalyInfo.ENUM_TYPE_UNEXPECTED_STRING_VALUES
        reason.short_description = short
        reason.description = description
    folder = uri / f"Split-{split}"
    folder.mkdir(parents=True)
    (folder / anomaly_gate.ANOMALIES_FILE).write_bytes(anomalies.SerializeToString())


def test_read_one_anomaly(tmp_path):
    _write(tmp_path, "train", island=("Unexpected string values", "Examples contain Atlantis."))
    found = anomaly_gate.read(str(tmp_path), '["train"]')
    assert found == [
        Anomaly("train", "island", "Unexpected string values", "Examples contain Atlantis.")
    ]


def test_read_several_splits_and_columns(tmp_path):
    _write(tmp_path, "train", sex=("s1", "d1"), island=("s2", "d2"))
    _write(tmp_path, "eval", body_mass_g=("s3", "d3"))
    found = anomaly_gate.read(str(tmp_path), '["train", "eval"]')
    assert [(a.split, a.column) for a in found] == [
        ("train", "island"),
        ("train", "sex"),
        ("eval", "body_mass_g"),
    ]


def test_read_dataset_anomaly(tmp_path):
    anomalies = anomalies_pb2.Anomalies()
    anomalies.dataset_anomaly_info.short_description = "Low num examples"
    anomalies.dataset_anomaly_info.description = "Too few."
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    found = anomaly_gate.read(str(tmp_path), '["train"]')
    assert found == [Anomaly("train", "(dataset)", "Low num examples", "Too few.")]


def test_missing_findings_fail_closed(tmp_path):
    with pytest.raises(anomaly_gate.DataValidationError, match="'train' are missing"):
        anomaly_gate.read(str(tmp_path), '["train", "eval"]')


def test_an_artifact_naming_no_split_fails_closed(tmp_path):
    with pytest.raises(anomaly_gate.DataValidationError, match="names no split"):
        anomaly_gate.read(str(tmp_path), "")


def test_unreadable_findings_fail_closed(tmp_path):
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "SchemaDiff.pb").write_bytes(b"\xff\x00 not a proto")
    with pytest.raises(anomaly_gate.DataValidationError, match="unreadable"):
        anomaly_gate.read(str(tmp_path), '["train"]')


def _ram_findings(root: str, **splits) -> None:
    for split, columns in splits.items():
        anomalies = anomalies_pb2.Anomalies()
        for column, short in columns.items():
            anomalies.anomaly_info[column].short_description = short
        folder = f"{root}/Split-{split}"
        tf.io.gfile.makedirs(folder)
        with tf.io.gfile.GFile(f"{folder}/{anomaly_gate.ANOMALIES_FILE}", "wb") as handle:
            handle.write(anomalies.SerializeToString())


def _artifacts(root: str):
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = f"{root}/anomalies"
    anomalies.split_names = '["train", "test"]'
    schema, validated = standard_artifacts.Schema(), standard_artifacts.Schema()
    schema.uri, validated.uri = f"{root}/schema", f"{root}/validated"
    tf.io.gfile.makedirs(schema.uri)
    with tf.io.gfile.GFile(f"{schema.uri}/schema.pbtxt", "w") as handle:
        handle.write('feature { name: "x" type: FLOAT }\n')
    return anomalies, schema, validated


def test_the_gate_passes_clean_data_on_a_remote_filesystem():
    root = "ram://anomaly-gate-clean"
    anomalies, schema, validated = _artifacts(root)
    _ram_findings(anomalies.uri, train={}, test={})
    anomaly_gate.AnomalyGate.test_call(anomalies, schema, validated)
    assert tf.io.gfile.exists(f"{validated.uri}/schema.pbtxt")


def test_the_gate_stops_bad_data_and_missing_findings_on_a_remote_filesystem():
    root = "ram://anomaly-gate-bad"
    anomalies, schema, validated = _artifacts(root)
    _ram_findings(anomalies.uri, train={}, test={"island": "Unexpected string values"})
    with pytest.raises(anomaly_gate.DataValidationError, match="column 'island'"):
        anomaly_gate.AnomalyGate.test_call(anomalies, schema, validated)
    assert not tf.io.gfile.exists(f"{validated.uri}/schema.pbtxt")
    missing, schema, validated = _artifacts("ram://anomaly-gate-missing")
    _ram_findings(missing.uri, train={})
    with pytest.raises(anomaly_gate.DataValidationError, match="'test' are missing"):
        anomaly_gate.AnomalyGate.test_call(missing, schema, validated)


def test_read_clean_split(tmp_path):
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "SchemaDiff.pb").write_bytes(b"")
    assert anomaly_gate.read(str(tmp_path), '["train"]') == []


def test_message_one_anomaly():
    found = [Anomaly("train", "island", "Unexpected string values", "Atlantis")]
    text = anomaly_gate.message(found, "schemas/penguin/schema.pbtxt", "data.csv")
    lines = text.splitlines()
    assert lines[0] == "data validation failed for data.csv: 1 anomaly"
    assert "'island'" in lines[1]
    assert "Unexpected string values" in lines[1]
    assert "Atlantis" in lines[1]
    assert lines[-1] == "fix the data, or relax schemas/penguin/schema.pbtxt if the data is right"


def test_message_counts_plural():
    found = [Anomaly("train", c, "s", "d") for c in ("a", "b")]
    text = anomaly_gate.message(found, "the inferred schema")
    assert text.splitlines()[0] == "data validation failed for the data: 2 anomalies"
    assert len(text.splitlines()) == 4


def test_with_a_data_root_the_gate_moves_the_rejected_span_aside(tmp_path):
    """Where no kfx process quarantines (a cluster), the gate itself moves the span."""
    root = str(tmp_path / "artifacts")
    anomalies, schema, validated = _artifacts(root)
    _ram_findings(anomalies.uri, train={"island": "Unexpected string values"}, test={})
    data = tmp_path / "data"
    (data / "span-2").mkdir(parents=True)
    (data / "span-2" / "data.csv").write_text("island\nAtlantis\n")
    examples = standard_artifacts.Examples()
    examples.uri = f"{root}/examples"
    examples.set_int_custom_property("span", 2)
    with pytest.raises(anomaly_gate.DataValidationError, match="span 2 moved to"):
        anomaly_gate.AnomalyGate.test_call(
            anomalies, schema, validated, data_root=str(data), examples=examples
        )
    assert not (data / "span-2").exists()
    (moved,) = (data / "rejected").glob("span-2-*")
    assert (moved / "data.csv").read_text() == "island\nAtlantis\n"
    assert "column 'island'" in (moved / "REJECTED.txt").read_text()
