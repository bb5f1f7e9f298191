"""DriftCheck on real penguin statistics: unchanged halves pass, a shifted feature stops the run."""

from __future__ import annotations

import importlib
import json

import pytest
import tensorflow_data_validation as tfdv
from tfx.types import standard_artifacts

from components import anomaly_gate, drift_check
from components.anomaly_gate import DataValidationError
from trainers.spec import SCHEMAS_DIR

SCHEMA = SCHEMAS_DIR / "penguin" / "schema.pbtxt"


@pytest.fixture(scope="module")
def penguins(tmp_path_factory):
    import pandas as pd

    folder = tmp_path_factory.mktemp("penguins")
    importlib.import_module("trainers.penguin.data").write(folder)
    frame = pd.read_csv(next(folder.glob("*.csv"))).sample(frac=1.0, random_state=0)
    half = len(frame) // 2
    return frame.iloc[:half], frame.iloc[half:]


def _artifact(kind, uri, span=None):
    artifact = kind()
    artifact.uri = str(uri)
    if span is not None:
        artifact.set_int_custom_property("span", span)
    return artifact


def _statistics(tmp_path, name, frame):
    folder = tmp_path / name / f"Split-{drift_check.SPLIT}"
    folder.mkdir(parents=True)
    stats = tfdv.generate_statistics_from_dataframe(frame)
    (folder / drift_check.STATS_FILE).write_bytes(stats.SerializeToString())
    return _artifact(standard_artifacts.ExampleStatistics, tmp_path / name)


def _schema(tmp_path):
    folder = tmp_path / "schema"
    folder.mkdir(exist_ok=True)
    (folder / anomaly_gate.SCHEMA_FILE).write_text(SCHEMA.read_text())
    return _artifact(standard_artifacts.Schema, folder)


def _check(tmp_path, data_root, span, frame, accept=0, name=None):
    (data_root / f"span-{span}").mkdir(parents=True, exist_ok=True)
    drift = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / f"drift-{name or span}")
    body = drift_check.DriftCheck.EXECUTOR_SPEC.executor_class._FUNCTION
    body(
        statistics=_statistics(tmp_path, f"stats-{name or span}", frame),
        schema=_schema(tmp_path),
        examples=_artifact(standard_artifacts.Examples, tmp_path / "examples", span=span),
        drift=drift,
        data_root=str(data_root),
        accept_drift=accept,
    )
    found = anomaly_gate.read(drift.uri, drift.split_names)
    return found, json.loads((tmp_path / f"drift-{name or span}" / drift_check.REPORT).read_text())


def test_the_first_span_is_recorded_and_has_nothing_to_compare(tmp_path, penguins):
    found, record = _check(tmp_path, tmp_path / "data", 1, penguins[0])
    assert found == [] and record["previous_span"] is None
    assert (tmp_path / "data" / "span-1" / drift_check.STATISTICS_FILE).is_file()


def test_unchanged_penguins_pass_and_a_shifted_feature_is_drift(tmp_path, penguins):
    data = tmp_path / "data"
    _check(tmp_path, data, 1, penguins[0])
    found, record = _check(tmp_path, data, 2, penguins[1])
    assert found == [] and record["previous_span"] == 1
    assert set(record["features"]) == {
        "species",
        "island",
        "sex",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
    }
    heavier = penguins[1].assign(body_mass_g=penguins[1].body_mass_g + 1200)
    found, record = _check(tmp_path, data, 3, heavier)
    assert [a.column for a in found] == ["body_mass_g"]
    assert (
        "span 3 against span 2" in found[0].description and "--accept-drift" in found[0].description
    )
    measured = record["features"]["body_mass_g"]
    assert measured["distance"] > measured["threshold"] == pytest.approx(0.15)


def test_rejected_spans_and_spans_without_statistics_are_not_the_baseline(tmp_path):
    data = tmp_path / "data"
    for folder in ("span-1", "span-2", "span-4", "rejected/span-3-x"):
        (data / folder).mkdir(parents=True)
    for folder in ("span-1", "rejected/span-3-x"):
        (data / folder / drift_check.STATISTICS_FILE).write_bytes(b"")
    assert drift_check.previous_span(str(data), 5) == 1
    assert drift_check.previous_span(str(data), 1) is None


def test_accept_drift_lets_the_span_through_and_later_runs_keep_it(tmp_path, penguins):
    data = tmp_path / "data"
    _check(tmp_path, data, 1, penguins[0])
    moved = penguins[1].assign(island="Dream")
    found, record = _check(tmp_path, data, 2, moved, accept=1)
    assert found == [] and record["accepted"] is True and record["drifted"] == ["island"]
    found, record = _check(tmp_path, data, 2, moved, name="again")  # the next plain run
    assert found == [] and record["passed_before"] is True


def test_a_drifted_span_is_not_a_baseline(tmp_path, penguins):
    data = tmp_path / "data"
    _check(tmp_path, data, 1, penguins[0])
    found, _ = _check(tmp_path, data, 2, penguins[1].assign(island="Dream"))
    assert [a.column for a in found] == ["island"]
    assert not (data / "span-2" / drift_check.STATISTICS_FILE).exists()
    assert drift_check.previous_span(str(data), 3) == 1


def test_the_anomaly_gate_stops_on_drift_and_names_the_fix(tmp_path, penguins):
    data = tmp_path / "data"
    _check(tmp_path, data, 1, penguins[0])
    moved = penguins[1].assign(island="Dream")
    _check(tmp_path, data, 2, moved)
    clean = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / "validator")
    (tmp_path / "validator" / "Split-train").mkdir(parents=True)
    (tmp_path / "validator" / "Split-train" / anomaly_gate.ANOMALIES_FILE).write_bytes(b"")
    clean.split_names = '["train"]'
    drift = _artifact(standard_artifacts.ExampleAnomalies, tmp_path / "drift-2")
    drift.split_names = '["train"]'
    body = anomaly_gate.AnomalyGate.EXECUTOR_SPEC.executor_class._FUNCTION
    with pytest.raises(DataValidationError) as err:
        body(
            anomalies=clean,
            schema=_schema(tmp_path),
            validated_schema=_artifact(standard_artifacts.Schema, tmp_path / "out"),
            drift=drift,
        )
    assert "[drift] column 'island'" in str(err.value)
    assert "run again with --accept-drift" in str(err.value)
