"""ModelGate: the supervised gate after TFX's Evaluator; its blessing is what the Pusher uses.

The Evaluator computes the candidate's and the baseline's metrics on the test split. The gate
adds the naive predictor of the same run (each output's majority class, or its training
mean, fitted on the train split and scored on the test split; or a forecast's own past
value, such as the last one, read from each test example), then decides with the three
parts of components/gate.py and writes a ModelBlessing with the decision beside it. A
missing or unreadable evaluation or split fails the run: the gate never blesses by default.
"""

import dataclasses
import json
import math
import os

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing, ModelEvaluation

from components import artifacts, gate

BASELINE = "baseline"  # TFMA's model_name of the baseline model


@dataclasses.dataclass(frozen=True)
class Gated:
    """One evaluated output as the gate needs it (the pipeline writes these as JSON)."""

    key: str
    """'METRIC' or 'OUTPUT/METRIC' (how summaries name it)."""
    output: str
    """TFMA's output name ('' for a single-output model)."""
    metric: str
    """'accuracy', 'exact_match' or 'rmse'."""
    label: str
    """Raw label column the naive predictor is fitted on."""
    higher_is_better: bool
    threshold: float | None = None
    margin: float = 0.0
    naive_feature: str = ""
    """Window feature whose past value is each example's naive forecast ('' : majority/mean)."""
    naive_lag: int = 1
    """Steps back in `naive_feature` (1: the last value)."""
    naive_factor: float | None = None
    """The bar is this multiple of the naive value instead of naive ± `margin`."""


def metric_values(uri: str) -> dict[tuple[str, str, str], float]:
    """{(model, output, metric): value} of the overall slice; model is 'candidate'/'baseline'.

    Raises:
        FileNotFoundError: `uri` holds no TFMA metrics.
    """
    import tensorflow_model_analysis as tfma

    found = {}
    for metrics in tfma.load_metrics(uri):
        if metrics.slice_key.single_slice_keys:
            continue
        for item in metrics.metric_keys_and_values:
            key = item.key
            if key.is_diff:
                continue
            model = BASELINE if key.model_name == BASELINE else "candidate"
            found[(model, key.output_name, key.name)] = float(item.value.double_value.value)
    if not found:
        raise FileNotFoundError(f"{uri}: no evaluation metrics; the gate cannot judge the model")
    return found


def labels(examples_uri: str, split: str, label: str):
    """The raw label values of one split of an Examples artifact (numpy; strings as str).

    Raises:
        FileNotFoundError: the split has no files.
        ValueError: no example has the label.
    """
    import numpy as np
    import tensorflow as tf

    pattern = os.path.join(examples_uri, f"Split-{split}", "*")
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"{pattern}: no examples; the gate cannot fit the naive predictor")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    kind = None
    for record in records.take(100):
        feature = tf.train.Example.FromString(record.numpy()).features.feature.get(label)
        if feature is not None and feature.WhichOneof("kind"):
            kind = feature.WhichOneof("kind")
            break
    if kind is None:
        raise ValueError(f"{pattern}: no example has the label {label!r}")
    dtype = {"bytes_list": tf.string, "int64_list": tf.int64, "float_list": tf.float32}[kind]
    spec = {label: tf.io.VarLenFeature(dtype)}
    # Examples without the label (unlabelled rows) contribute nothing.
    values = [tf.io.parse_example(b, spec)[label].values.numpy() for b in records.batch(4096)]
    found = np.concatenate(values) if values else np.array([])
    return np.array([v.decode() for v in found]) if dtype == tf.string else found.astype(float)


def lagged(examples_uri: str, split: str, label: str, feature: str, lag: int):
    """(labels, forecasts): each labelled example's label and its `feature[-lag]` (numpy).

    Raises:
        FileNotFoundError: the split has no files.
        ValueError: an example's window is shorter than `lag`, or no example has the label.
    """
    import numpy as np
    import tensorflow as tf

    pattern = os.path.join(examples_uri, f"Split-{split}", "*")
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"{pattern}: no examples; the gate cannot read the naive forecast")
    found, forecasts = [], []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        features = tf.train.Example.FromString(record.numpy()).features.feature
        target = features[label].float_list.value if label in features else []
        if not target:
            continue  # an unlabelled example contributes nothing
        window = features[feature].float_list.value if feature in features else []
        if len(window) < lag:
            raise ValueError(f"{pattern}: an example's {feature!r} has no value {lag} steps back")
        found.append(target[0])
        forecasts.append(window[-lag])
    if not found:
        raise ValueError(f"{pattern}: no example has the label {label!r}")
    return np.asarray(found, float), np.asarray(forecasts, float)


def forecast_rmse(labels, forecasts) -> float:
    """RMSE of per-example forecasts."""
    import numpy as np

    return float(np.sqrt(np.mean((np.asarray(forecasts) - np.asarray(labels)) ** 2)))


def naive_value(metric: str, train, test) -> float:
    """The naive predictor's metric on `test`: majority label of `train`, or its mean."""
    import numpy as np

    if len(train) == 0 or len(test) == 0:
        return math.nan
    if metric in gate.SHARE_METRICS:
        values, counts = np.unique(train, return_counts=True)
        majority = values[np.argmax(counts)]
        return float(np.mean(test == majority))
    return float(np.sqrt(np.mean((np.asarray(test, float) - np.mean(train)) ** 2)))


def checks(
    gated: list[Gated], values: dict, examples_uri: str, fit_split: str, test_split: str
) -> list[gate.Check]:
    """The gate's checks: candidate and baseline values, and each output's naive value."""
    found = []
    cache: dict[str, tuple] = {}
    for g in gated:
        margin = g.margin
        if g.naive_feature:
            naive = forecast_rmse(
                *lagged(examples_uri, test_split, g.label, g.naive_feature, g.naive_lag)
            )
        else:
            if g.label not in cache:
                cache[g.label] = (
                    labels(examples_uri, fit_split, g.label),
                    labels(examples_uri, test_split, g.label),
                )
            naive = naive_value(g.metric, *cache[g.label])
        if g.naive_factor is not None and not math.isnan(naive):
            margin = gate.factor_margin(naive, g.naive_factor, g.higher_is_better)
        found.append(
            gate.Check(
                key=g.key,
                value=values.get(("candidate", g.output, g.metric)),
                higher_is_better=g.higher_is_better,
                threshold=g.threshold,
                naive=None if math.isnan(naive) else naive,
                margin=margin,
                baseline=values.get((BASELINE, g.output, g.metric)),
                factor=g.naive_factor,
            )
        )
    return found


# The supervised pipeline calls this after the Evaluator.
@component
def ModelGate(  # noqa: N802 (TFX component names are classes)
    examples: InputArtifact[Examples],
    evaluation: InputArtifact[ModelEvaluation],
    model: InputArtifact[Model],
    blessing: OutputArtifact[ModelBlessing],
    outputs: Parameter[str],
    fit_split: Parameter[str] = "train",
    test_split: Parameter[str] = "test",
    baseline_model: InputArtifact[Model] = None,
) -> None:
    """Decides on the candidate from the Evaluator's metrics and the naive predictor.

    Args:
        examples: ExampleGen's raw examples (the naive predictor is fitted on `fit_split`).
        evaluation: the Evaluator's output on `test_split`.
        model: the candidate (its id goes on the blessing).
        blessing: the decision, as TFX's Pusher reads it, with `gate.json` beside it.
        outputs: JSON list of `Gated` fields, main output first.
        fit_split: split the naive predictor learns from.
        test_split: split the Evaluator scored (the naive predictor is scored there too).
        baseline_model: the latest blessed model the Evaluator compared with, if any.
    """
    gated = [Gated(**g) for g in json.loads(outputs)]
    baseline_model = artifacts.present(baseline_model)  # a lookup may have found none
    values = metric_values(evaluation.uri)
    if baseline_model is not None and not any(k[0] == BASELINE for k in values):
        raise ValueError(f"{evaluation.uri}: the baseline model was not evaluated")
    decision = gate.decide(checks(gated, values, examples.uri, fit_split, test_split))
    gate.record(blessing, decision, model, baseline_model)
