"""AnomalyGate: turns ExampleValidator's findings into a stop.

ExampleValidator records anomalies but never fails. The gate reads them and either passes the
schema on (downstream components consume the gate's `validated_schema`, so Transform, Tuner
and Trainer cannot start before the data passed) or fails the pipeline with a readable list.
It fails closed: an anomalies artifact without a split's findings, or that cannot be read,
stops the run as surely as an anomaly. Artifacts are read through `tf.io.gfile`.

Given the data folder (`data_root`, set when compiled for Kubeflow) and the Examples, the gate
also moves the rejected span to `rejected/` with the reasons beside it, so the next run reads
the last good span, as `kfx run` does locally after a failed run.
"""

import dataclasses
import os
import time

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import ExampleAnomalies, Examples, Schema

from components.span_layout import REJECTED, SPAN, WHY_FILE

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
    """Every anomaly recorded in an ExampleAnomalies artifact directory.

    Raises:
        DataValidationError: the artifact lists no split, or a split's findings are missing or
            unreadable (nothing proves the data is clean, so it is not let through).
    """
    import tensorflow as tf
    from google.protobuf.message import DecodeError
    from tensorflow_metadata.proto.v0 import anomalies_pb2

    splits = artifact_utils.decode_split_names(split_names or "[]")
    if not splits:
        raise DataValidationError(f"{uri}: the anomalies artifact names no split; fail closed")
    found = []
    for split in splits:
        path = os.path.join(uri, f"Split-{split}", ANOMALIES_FILE)
        if not tf.io.gfile.exists(path):
            raise DataValidationError(
                f"{path}: ExampleValidator's findings for split {split!r} are missing; the "
                "data is not let through unchecked (re-run with --no-cache)"
            )
        anomalies = anomalies_pb2.Anomalies()
        try:
            with tf.io.gfile.GFile(path, "rb") as handle:
                anomalies.ParseFromString(handle.read())
        except (DecodeError, tf.errors.OpError) as err:
            raise DataValidationError(f"{path}: unreadable findings ({err}); fail closed") from None
        for column, info in sorted(anomalies.anomaly_info.items()):
            short = "; ".join(r.short_description for r in info.reason) or info.short_description
            found.append(Anomaly(split, column, short, info.description))
        if anomalies.HasField("dataset_anomaly_info"):
            info = anomalies.dataset_anomaly_info
            found.append(Anomaly(split, "(dataset)", info.short_description, info.description))
    return found


DRIFT = "drift"  # the split label of DriftCheck's findings


def read_drift(uri: str, split_names: str) -> list[Anomaly]:
    """DriftCheck's findings, as `read` gives them, labelled `DRIFT` instead of their split."""
    return [dataclasses.replace(a, split=DRIFT) for a in read(uri, split_names)]


def message(anomalies: list[Anomaly], schema_hint: str, source: str = "the data") -> str:
    """The multi-line report printed when the gate stops a run."""
    count = f"{len(anomalies)} anomal{'y' if len(anomalies) == 1 else 'ies'}"
    lines = [f"data validation failed for {source}: {count}"]
    lines += [f"  {a}" for a in anomalies]
    fix = f"fix the data, or relax {schema_hint} if the data is right"
    if any(a.split == DRIFT for a in anomalies):
        fix += "; a deliberate change of distribution: run again with --accept-drift"
    lines.append(fix)
    return "\n".join(lines)


def quarantine(data_root: str, span: int, why: str) -> str | None:
    """Moves `data_root/span-N` to `data_root/rejected/span-N-TIME` with `why` beside it.

    Returns the new folder, or None if the span folder is not there (already moved).
    """
    import tensorflow as tf

    source = os.path.join(data_root, f"{SPAN}{span}")
    if not tf.io.gfile.isdir(source):
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    destination = os.path.join(data_root, REJECTED, f"{SPAN}{span}-{stamp}")
    tf.io.gfile.makedirs(os.path.dirname(destination))
    tf.io.gfile.rename(source, destination)
    with tf.io.gfile.GFile(os.path.join(destination, WHY_FILE), "w") as handle:
        handle.write(f"rejected by the AnomalyGate at {stamp} (UTC)\n{why}\n")
    return destination


# The pipeline calls this after ExampleValidator.
@component
def AnomalyGate(  # noqa: N802 (TFX component names are classes)
    anomalies: InputArtifact[ExampleAnomalies],
    schema: InputArtifact[Schema],
    validated_schema: OutputArtifact[Schema],
    schema_hint: Parameter[str] = "the schema",
    data_root: Parameter[str] = "",
    examples: InputArtifact[Examples] = None,
    drift: InputArtifact[ExampleAnomalies] = None,
) -> None:
    """Fails on any anomaly, else republishes the schema the data was checked against.

    With `drift` (DriftCheck's findings), a drifted feature counts as an anomaly. With
    `data_root` and `examples`, a rejected span is moved aside before failing.
    """
    import tensorflow as tf

    found = read(anomalies.uri, anomalies.split_names)
    if drift is not None:
        found += read_drift(drift.uri, drift.split_names)
    if found:
        why = message(found, schema_hint)
        span = examples.get_int_custom_property("span") if examples is not None else 0
        moved = quarantine(data_root, span, why) if data_root and span else None
        if moved:
            why += f"\nspan {span} moved to {moved}; the next run reads the last good span"
        raise DataValidationError(why)
    source = os.path.join(schema.uri, SCHEMA_FILE)
    if not tf.io.gfile.exists(source):
        raise DataValidationError(f"{source}: no schema to pass on; fail closed")
    tf.io.gfile.makedirs(validated_schema.uri)
    tf.io.gfile.copy(source, os.path.join(validated_schema.uri, SCHEMA_FILE), overwrite=True)
