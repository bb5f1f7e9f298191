"""What a run's report shows, read from its artifacts through `tf.io.gfile` (local or remote).

TFDV's statistics (`Split-<name>/FeatureStats.pb`) and anomalies (`SchemaDiff.pb`), TFMA's
metrics per slice, the PolicyEvaluator's episode returns, TrajectoryGen's episode statistics,
and the scalars and images of the TensorBoard event files under a ModelRun directory.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections import defaultdict

STATS_FILE = "FeatureStats.pb"
RETURNS_FILE = "returns.json"  # components/policy_evaluator.py
TRAJECTORY_STATS = "trajectory_stats.json"  # components/trajectory_gen.py
MAX_FEATURES = 40  # per split; a wider table is for TFDV's own viewer


@dataclasses.dataclass(frozen=True)
class Feature:
    """One column of one split, as TFDV profiled it."""

    name: str
    kind: str
    """'numeric' or 'categorical'."""
    missing: float
    """Share of examples without a value."""
    summary: str
    """mean ± std [min, max] or the unique count and the top values."""


@dataclasses.dataclass(frozen=True)
class SplitStats:
    """TFDV's statistics of one split."""

    split: str
    examples: int
    features: tuple[Feature, ...]


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def splits_of(split_names: str) -> list[str]:
    """`split_names` of an artifact ('["train", "eval"]') as a list."""
    return [str(s) for s in json.loads(split_names or "[]")]


def _feature(feature, examples: int) -> Feature:
    name = feature.path.step[-1] if feature.path.step else feature.name
    if feature.HasField("num_stats"):
        num = feature.num_stats
        common, kind = num.common_stats, "numeric"
        summary = f"{num.mean:.4g} ± {num.std_dev:.3g} [{num.min:.4g}, {num.max:.4g}]"
    else:
        text = feature.string_stats
        common, kind = text.common_stats, "categorical"
        top = ", ".join(f"{v.value} ({int(v.frequency)})" for v in text.top_values[:3])
        summary = f"{text.unique} unique; top: {top}" if top else f"{text.unique} unique"
    missing = common.num_missing / examples if examples else 0.0
    return Feature(str(name), kind, float(missing), summary)


def statistics(uri: str, split_names: str) -> list[SplitStats]:
    """Each split's example count and per-feature summary (StatisticsGen's output)."""
    from tensorflow_metadata.proto.v0 import statistics_pb2

    found = []
    for split in splits_of(split_names):
        path = os.path.join(uri, f"Split-{split}", STATS_FILE)
        if not _gfile().exists(path):
            continue
        with _gfile().GFile(path, "rb") as handle:
            stats = statistics_pb2.DatasetFeatureStatisticsList.FromString(handle.read())
        for dataset in stats.datasets:
            examples = int(dataset.num_examples)
            features = tuple(_feature(f, examples) for f in dataset.features[:MAX_FEATURES])
            found.append(SplitStats(split, examples, features))
    return found


def anomalies(uri: str, split_names: str) -> list:
    """ExampleValidator's findings (`anomaly_gate.Anomaly`s), every split."""
    from components import anomaly_gate

    return anomaly_gate.read(uri, split_names)


@dataclasses.dataclass(frozen=True)
class Metric:
    """One TFMA value: which slice, model and output it belongs to."""

    slice: str
    """'overall' or 'feature=value[, ...]'."""
    model: str
    """'candidate' or 'baseline'."""
    output: str
    name: str
    value: float


def _slice_name(slice_key) -> str:
    parts = []
    for key in slice_key.single_slice_keys:
        kind = key.WhichOneof("kind")
        value = getattr(key, kind) if kind else ""
        parts.append(f"{key.column}={value.decode() if isinstance(value, bytes) else value}")
    return ", ".join(parts) or "overall"


def metrics(uri: str) -> list[Metric]:
    """Every scalar TFMA metric of every slice (the Evaluator's output); diffs left out."""
    import tensorflow_model_analysis as tfma

    found = []
    for per_slice in tfma.load_metrics(uri):
        name = _slice_name(per_slice.slice_key)
        for item in per_slice.metric_keys_and_values:
            if item.key.is_diff or not item.value.HasField("double_value"):
                continue
            model = "baseline" if item.key.model_name == "baseline" else "candidate"
            value = float(item.value.double_value.value)
            found.append(Metric(name, model, item.key.output_name, item.key.name, value))
    return found


def returns(uri: str) -> dict | None:
    """The PolicyEvaluator's record (returns of candidate, baseline, random policy) or None."""
    return _json(os.path.join(uri, RETURNS_FILE))


def trajectories(uri: str) -> dict | None:
    """TrajectoryGen's episode statistics, or None."""
    return _json(os.path.join(uri, TRAJECTORY_STATS))


def _json(path: str):
    if not _gfile().exists(path):
        return None
    with _gfile().GFile(path) as handle:
        return json.load(handle)


@dataclasses.dataclass
class Events:
    """What the event files under a ModelRun directory hold, by TensorBoard run."""

    scalars: dict = dataclasses.field(default_factory=lambda: defaultdict(dict))
    """{tag: {run: [(step, value)]}}; run is the folder below model_run ('train', ...)."""
    images: list = dataclasses.field(default_factory=list)
    """[(run, tag, PNG bytes)], the newest image of each (run, tag)."""
    graph: bool = False
    """Whether a graph was logged."""


def _event_files(root: str) -> list[tuple[str, str]]:
    """(run, path) of every events file below `root`; run '.' for files in `root` itself."""
    found = []
    for folder, _, files in _gfile().walk(root):
        run = os.path.relpath(folder, root)
        found += [(run, os.path.join(folder, f)) for f in files if ".tfevents." in f]
    return sorted(found)


def events(model_run_uri: str) -> Events:
    """Scalars (learning curves), images (the task's pictures) and whether a graph exists."""
    import tensorflow as tf

    result = Events()
    newest: dict[tuple[str, str], bytes] = {}
    for run, path in _event_files(model_run_uri):
        for event in tf.compat.v1.train.summary_iterator(path):
            if event.HasField("graph_def"):
                result.graph = True
            for value in event.summary.value:
                plugin = value.metadata.plugin_data.plugin_name
                if plugin == "graph_run_metadata_graph" or value.tag == "keras":
                    result.graph = True
                elif plugin == "images" or value.HasField("image"):
                    png = value.image.encoded_image_string or _png(tf, value.tensor)
                    if png:
                        newest[(run, value.tag)] = png
                elif plugin == "scalars" or value.HasField("simple_value"):
                    number = value.simple_value
                    if value.HasField("tensor"):
                        number = float(tf.make_ndarray(value.tensor))
                    if math.isfinite(number):
                        result.scalars[value.tag].setdefault(run, []).append((event.step, number))
    result.images = [(run, tag, png) for (run, tag), png in sorted(newest.items())]
    return result


def _png(tf, tensor) -> bytes:
    """The first PNG of a TF2 image summary tensor ([width, height, png, ...] strings)."""
    values = tf.make_ndarray(tensor).reshape(-1)
    return bytes(values[2]) if len(values) > 2 else b""
