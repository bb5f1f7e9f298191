"""DriftCheck: a new span whose distribution moved from the last good span stops like an anomaly.

The schema says which features are compared and how far they may move
(`drift_comparator`: L-infinity distance for categorical features, Jensen–Shannon divergence
for numeric ones). The last good span is the newest older span still in the data folder
(rejected spans are moved to `rejected/`); a span that passes (or is accepted) keeps its
train-split statistics beside its data as `STATISTICS_FILE`, which makes it the baseline of
later spans and exempts it from being compared again, so the comparison needs no MLMD
query and runs the same on every orchestrator. Findings are written as ExampleAnomalies, which the
AnomalyGate reads with ExampleValidator's, so a drifted span is listed, stops the run and is
quarantined like any other bad span. `accept_drift` records the distances and lets it through.
"""

import json
import os

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import ExampleAnomalies, Examples, ExampleStatistics, Schema

from components import artifacts
from components.anomaly_gate import ANOMALIES_FILE, SCHEMA_FILE
from components.span_layout import SPAN

SPLIT = "train"  # the split compared: both spans' training rows
STATISTICS_FILE = "kfx-train-statistics.pb"  # beside a checked span's data (ExampleGen skips it)
STATS_FILE = "FeatureStats.pb"  # what StatisticsGen writes in each Split-<name> dir
REPORT = "drift.json"  # every compared feature's distance and threshold
_DRIFT_TYPES = (
    "COMPARATOR_L_INFTY_HIGH",
    "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH",
    "COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH",
    "COMPARATOR_CONTROL_DATA_MISSING",
)


def has_comparators(schema) -> bool:
    """Whether any feature of the schema proto asks for a drift comparison."""
    return any(f.HasField("drift_comparator") for f in schema.feature)


def previous_span(data_root: str, span: int) -> int | None:
    """The newest span below `span` in the data folder that has recorded statistics."""
    import tensorflow as tf

    found = []
    for folder in tf.io.gfile.glob(os.path.join(data_root, f"{SPAN}*")):
        number = os.path.basename(folder.rstrip("/"))[len(SPAN) :]
        stats = os.path.join(data_root, f"{SPAN}{number}", STATISTICS_FILE)
        if number.isdigit() and int(number) < span and tf.io.gfile.exists(stats):
            found.append(int(number))
    return max(found, default=None)


def compare(current, previous, schema):
    """(ExampleAnomalies proto of the drifted features only, {feature: measurement})."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    validated = tfdv.validate_statistics(current, schema, previous_statistics=previous)
    found = anomalies_pb2.Anomalies()
    found.CopyFrom(validated)
    found.ClearField("anomaly_info")
    found.ClearField("dataset_anomaly_info")
    wanted = {anomalies_pb2.AnomalyInfo.Type.Value(t) for t in _DRIFT_TYPES}
    for column, info in validated.anomaly_info.items():
        reasons = [r for r in info.reason if r.type in wanted]
        if reasons:
            kept = found.anomaly_info[column]
            kept.CopyFrom(info)
            del kept.reason[:]
            kept.reason.extend(reasons)
    measured = {}
    for info in validated.drift_skew_info:
        feature = ".".join(info.path.step)
        for m in info.drift_measurements:
            measured[feature] = {"distance": round(m.value, 4), "threshold": m.threshold}
    return found, measured


def _read_stats(path: str):
    import tensorflow_data_validation as tfdv

    return tfdv.load_stats_binary(path)


def _write(drift_artifact, anomalies, record: dict) -> None:
    import tensorflow as tf

    folder = os.path.join(drift_artifact.uri, f"Split-{SPLIT}")
    tf.io.gfile.makedirs(folder)
    with tf.io.gfile.GFile(os.path.join(folder, ANOMALIES_FILE), "wb") as handle:
        handle.write(anomalies.SerializeToString())
    drift_artifact.split_names = json.dumps([SPLIT])
    artifacts.write_json(drift_artifact.uri, REPORT, record)


# The supervised pipeline calls this after StatisticsGen, before the AnomalyGate.
@component
def DriftCheck(  # noqa: N802 (TFX component names are classes)
    statistics: InputArtifact[ExampleStatistics],
    schema: InputArtifact[Schema],
    examples: InputArtifact[Examples],
    drift: OutputArtifact[ExampleAnomalies],
    data_root: Parameter[str],
    accept_drift: Parameter[int] = 0,
) -> None:
    """Compares the span's train statistics with the last good span's; records its own.

    Args:
        statistics: StatisticsGen's output for this span.
        schema: the schema whose `drift_comparator`s say what to compare.
        examples: ExampleGen's output (its `span` property says which span this is).
        drift: the drifted features as ExampleAnomalies (empty: none, or nothing to compare).
        data_root: the task's data folder (`span-N/` folders).
        accept_drift: 1 lets a drifted span through, its distances recorded.

    Raises:
        FileNotFoundError: StatisticsGen wrote no train statistics (fail closed).
    """
    import tensorflow as tf
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2

    current_path = os.path.join(statistics.uri, f"Split-{SPLIT}", STATS_FILE)
    if not tf.io.gfile.exists(current_path):
        raise FileNotFoundError(f"{current_path}: no statistics to compare; fail closed")
    with tf.io.gfile.GFile(os.path.join(schema.uri, SCHEMA_FILE)) as handle:
        schema_proto = text_format.Parse(handle.read(), schema_pb2.Schema())
    span = examples.get_int_custom_property("span")
    record = {"span": span, "previous_span": None, "accepted": bool(accept_drift), "features": {}}
    found = anomalies_pb2.Anomalies()
    span_dir = os.path.join(data_root, f"{SPAN}{span}")
    passed_before = tf.io.gfile.exists(os.path.join(span_dir, STATISTICS_FILE))
    previous = previous_span(data_root, span) if has_comparators(schema_proto) else None
    record["passed_before"] = passed_before  # checked (or accepted) by an earlier run: good
    if previous is not None and not passed_before:
        previous_path = os.path.join(data_root, f"{SPAN}{previous}", STATISTICS_FILE)
        found, measured = compare(
            _read_stats(current_path), _read_stats(previous_path), schema_proto
        )
        for info in found.anomaly_info.values():
            info.description += f" (span {span} against span {previous}; --accept-drift if meant)"
        record.update(previous_span=previous, features=measured, drifted=sorted(found.anomaly_info))
        if accept_drift:
            found = anomalies_pb2.Anomalies()
    _write(drift, found, record)
    if span and not found.anomaly_info and tf.io.gfile.isdir(span_dir):
        # Passed or accepted: the baseline of the next span, and never compared again.
        tf.io.gfile.copy(current_path, os.path.join(span_dir, STATISTICS_FILE), overwrite=True)
