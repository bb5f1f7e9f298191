"""AnomalyGate: turns ExampleValidator's findings into a stop.

ExampleValidator records anomalies but never fails. The gate reads them and either passes the
schema on (downstream components consume the gate's `validated_schema`, so Transform, Tuner
and Trainer cannot start before the data passed) or fails the pipeline with a readable list.
"""

import dataclasses
import os
import shutil

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import ExampleAnomalies, Schema

SCHEMA_FILE = "schema.pbtxt"
ANOMALIES_FILE = "SchemaDiff.pb"  # what ExampleValidator writes in each Split-<name> dir


@dataclasses.dataclass(frozen=True)
class Anomaly:
    """One readable finding: which split and column, what kind, and TFDV's explanation."""

    split: str
    column: str
    short: str
    description: str

    def __str__(self) -> str:
        return f"[{self.split}] column {self.column!r}: {self.short} — {self.description}"


class DataValidationError(RuntimeError):
    """The data does not match the schema; the message lists every anomaly."""


def read(uri: str, split_names: str) -> list[Anomaly]:
    """Every anomaly recorded in an ExampleAnomalies artifact directory."""
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    found = []
    for split in artifact_utils.decode_split_names(split_names):
        path = os.path.join(uri, f"Split-{split}", ANOMALIES_FILE)
        if not os.path.exists(path):
            continue
        anomalies = anomalies_pb2.Anomalies()
        with open(path, "rb") as handle:
            anomalies.ParseFromString(handle.read())
        for column, info in sorted(anomalies.anomaly_info.items()):
            short = "; ".join(r.short_description for r in info.reason) or info.short_description
            found.append(Anomaly(split, column, short, info.description))
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            found.append(Anomaly(split, "(dataset)", info.short_description, info.description))
    return found


def message(anomalies: list[Anomaly], schema_hint: str, source: str = "the data") -> str:
    """The multi-line report printed when the gate stops a run."""
    count = f"{len(anomalies)} anomal{'y' if len(anomalies) == 1 else 'ies'}"
    lines = [f"data validation failed for {source}: {count}"]
    lines += [f"  {a}" for a in anomalies]
    lines.append(f"fix the data, or relax {schema_hint} if the data is right")
    return "\n".join(lines)


# The pipeline calls this after ExampleValidator.
@component
def AnomalyGate(  # noqa: N802 (TFX component names are classes)
    anomalies: InputArtifact[ExampleAnomalies],
    schema: InputArtifact[Schema],
    validated_schema: OutputArtifact[Schema],
    schema_hint: Parameter[str] = "the schema",
) -> None:
    """Fails on any anomaly; otherwise republishes the schema the data was checked against."""
    found = read(anomalies.uri, anomalies.split_names)
    if found:
        raise DataValidationError(message(found, schema_hint))
    os.makedirs(validated_schema.uri, exist_ok=True)
    shutil.copy(
        os.path.join(schema.uri, SCHEMA_FILE), os.path.join(validated_schema.uri, SCHEMA_FILE)
    )
