"""ServingCheck: the model about to be pushed must load and answer as it was evaluated.

TFX's InfraValidator starts TensorFlow Serving in Docker or Kubernetes; this does the part
that matters without either. The gate-blessed candidate is loaded in a fresh Python process
(`components/serving_probe.py`: TensorFlow only, nothing the exporting process had in
memory), every raw test-split row goes through `serving_default`, and the check refuses when
the model cannot load, answers with the wrong keys, shapes or NaNs, or when the gated
metrics of its answers differ from what the Evaluator measured on the same rows. Its
ModelBlessing is the one the Pusher reads: the gate's decision, refused on any of those.
"""

import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing

from components import artifacts, gate
from components.serving_probe import LABEL_PREFIX, ROWS, VERDICT

FILE = "serving_check.json"  # beside the blessing: rows, seconds, served and evaluated values
PROBE = [sys.executable, "-m", "components.serving_probe"]
# The probe batches rows differently from TFMA; float32 sums then differ by ~1e-7, which can
# flip one near-tied example's class, and moves an RMSE by far less than this relative bound.
RMSE_RELATIVE = 1e-4
_COPIED = {
    "current_model": str,
    "baseline_model": str,
    "current_model_id": int,
    "baseline_model_id": int,
}


@dataclasses.dataclass(frozen=True)
class Served:
    """One gated output as the check reads it from the model's answers."""

    key: str
    """The gate's check key ('METRIC' or 'OUTPUT/METRIC')."""
    metric: str
    """A key of `SCORERS`: 'accuracy' (argmax of `scored` against the label index),
    'exact_match' (every position of `scored` equals the label's) or 'rmse'."""
    scored: str
    """Serving output the Evaluator scores (class probabilities, or the value)."""
    label_key: str
    """Transformed label, as `transform_features` returns it (what TFMA compares with)."""
    answers: tuple[str, ...] = ()
    """Serving outputs clients read; each needs one answer per row."""


def _accuracy(scored, labels) -> float:
    return float(np.mean(np.argmax(scored, axis=-1) == labels.reshape(-1).astype(int)))


def _exact_match(scored, labels) -> float:
    rows = len(scored)
    return float(np.mean(np.all(scored.reshape(rows, -1) == labels.reshape(rows, -1), axis=1)))


def _rmse(scored, labels) -> float:
    diff = scored.reshape(-1).astype(float) - labels.reshape(-1).astype(float)
    return float(np.sqrt(np.mean(diff**2)))


# How each gated metric is computed from the scored answers and the transformed labels.
SCORERS = {"accuracy": _accuracy, "exact_match": _exact_match, "rmse": _rmse}


def metric(served: Served, answers: dict) -> float:
    """The metric of the model's answers (numpy arrays from the probe)."""
    labels = np.asarray(answers[LABEL_PREFIX + served.label_key])
    return SCORERS[served.metric](np.asarray(answers[served.scored]), labels)


def shape_failures(served: Served, answers: dict) -> list[str]:
    """What is missing or wrongly shaped among one output's answers."""
    rows = int(answers[ROWS])
    found = []
    for key in dict.fromkeys((served.scored, *served.answers)):
        if key not in answers:
            found.append(f"serving_default returns no {key!r} (it returns {_keys(answers)})")
            continue
        value = np.asarray(answers[key])
        if value.shape[0] != rows:
            found.append(f"{key!r} has {value.shape[0]} answers for {rows} rows")
        elif value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            found.append(f"{key!r} has NaN or infinite answers")
    shape = np.asarray(answers[served.scored]).shape if served.scored in answers else ()
    if not found and served.metric in gate.SHARE_METRICS and len(shape) != 2:
        found.append(f"{served.scored!r} has shape {shape}, not [rows, classes or steps]")
    return found


def _keys(answers: dict) -> str:
    return ", ".join(sorted(k for k in answers if k != ROWS and not k.startswith(LABEL_PREFIX)))


def agrees(metric_name: str, served: float, evaluated: float, rows: int) -> bool:
    """Whether the served metric matches the Evaluator's within batching noise."""
    if metric_name in gate.SHARE_METRICS:
        return abs(served - evaluated) <= 1.0 / max(rows, 1) + 1e-12
    return abs(served - evaluated) <= RMSE_RELATIVE * max(1.0, abs(evaluated))


def judge(outputs: list[Served], answers: dict, evaluated: dict[str, float]) -> tuple:
    """(failures, served metric per key) of the probe's answers against the Evaluator's values."""
    failures = [f for s in outputs for f in shape_failures(s, answers)]
    if failures:
        return failures, {}
    values = {s.key: metric(s, answers) for s in outputs}
    rows = int(answers[ROWS])
    for s in outputs:
        if s.key in evaluated and not agrees(s.metric, values[s.key], evaluated[s.key], rows):
            failures.append(
                f"{s.key} of its answers is {values[s.key]:.4g} on {rows} test rows; "
                f"the Evaluator measured {evaluated[s.key]:.4g}"
            )
    return failures, values


def probe(model_dir: str, pattern: str, label_keys: list[str], timeout_s: int):
    """Runs the fresh process; (answers or None, one-line failure or '')."""
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "answers.npz")
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        try:
            ran = subprocess.run(
                [*PROBE, model_dir, pattern, out, *label_keys],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None, f"it did not answer {pattern} within {timeout_s} s"
        if ran.returncode != 0:
            said = [line for line in ran.stderr.splitlines() if line.startswith(VERDICT)]
            why = (
                said[-1][len(VERDICT) :] if said else (ran.stderr.strip().splitlines() or [""])[-1]
            )
            return None, f"it cannot load and answer in a fresh process: {why}"
        with np.load(out) as loaded:
            return {k: loaded[k] for k in loaded.files}, ""


def verdict(decision: gate.Decision, failures: list[str], rows: int, values: dict) -> gate.Decision:
    """The gate's decision, refused with the check's reasons, or passed with what was checked."""
    if failures:
        return gate.Decision(decision.checks, False, "serving check: " + "; ".join(failures))
    served = ", ".join(f"{key} {value:.4g}" for key, value in values.items())
    return gate.Decision(
        decision.checks,
        True,
        f"{decision.reason}; serving check: {rows} test rows answered in a fresh process, "
        f"{served} as evaluated",
    )


# The supervised pipeline calls this between the ModelGate and the Pusher.
@component
def ServingCheck(  # noqa: N802 (TFX component names are classes)
    model: InputArtifact[Model],
    examples: InputArtifact[Examples],
    gate_blessing: InputArtifact[ModelBlessing],
    blessing: OutputArtifact[ModelBlessing],
    outputs: Parameter[str],
    test_split: Parameter[str] = "test",
    timeout_s: Parameter[int] = 900,
) -> None:
    """Loads the gate-blessed model in a fresh process and compares its answers.

    Args:
        model: the model the Pusher would push.
        examples: ExampleGen's raw examples; `test_split` is sent.
        gate_blessing: the gate's decision (with the Evaluator's values); a refusal passes on.
        blessing: what the Pusher reads, with `gate.json` and `serving_check.json` beside it.
        outputs: JSON list of `Served` fields, main output first.
        test_split: the split the Evaluator scored.
        timeout_s: how long the fresh process may take to load and answer.

    Raises:
        FileNotFoundError: the gate's blessing holds no decision (never pushed by default).
    """
    from tfx.utils import path_utils

    decision = gate.read(gate_blessing.uri)
    if decision is None:
        raise FileNotFoundError(f"{gate_blessing.uri}: no gate decision; nothing can be pushed")
    served = [Served(**{**s, "answers": tuple(s["answers"])}) for s in json.loads(outputs)]
    record = {"checked": False, "failures": [], "served": {}, "evaluated": {}}
    if decision.passed:  # a refused model is not pushed anyway: no need to load it
        model_dir = path_utils.serving_model_dir(model.uri, path_utils.is_old_model_artifact(model))
        pattern = os.path.join(examples.uri, f"Split-{test_split}", "*")
        started = time.monotonic()
        labels = list(dict.fromkeys(s.label_key for s in served))
        answers, failure = probe(model_dir, pattern, labels, timeout_s)
        evaluated = {c.key: c.value for c in decision.checks if c.value is not None}
        failures, values = judge(served, answers, evaluated) if answers else ([failure], {})
        rows = int(answers[ROWS]) if answers else 0
        decision = verdict(decision, failures, rows, values)
        record = {
            "checked": True,
            "model_dir": model_dir,
            "rows": rows,
            "seconds": round(time.monotonic() - started, 2),
            "failures": failures,
            "served": {k: v for k, v in values.items() if not math.isnan(v)},
            "evaluated": evaluated,
        }
    artifacts.set_properties(blessing, gate.write(blessing.uri, decision))
    artifacts.write_json(blessing.uri, FILE, record)
    # The candidate the gate judged, as the baseline strategies key it (not the optimizer's).
    artifacts.set_properties(
        blessing,
        {
            name: kind(gate_blessing.get_custom_property(name))
            for name, kind in _COPIED.items()
            if gate_blessing.has_custom_property(name)
        },
    )
