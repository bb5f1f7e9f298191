"""The gate: one blessing decision in three parts, recorded with the blessing.

A candidate is blessed only when, for every gated output, on the test split:

(a) its metric clears the task's threshold;
(b) it beats a naive predictor computed in the same run on the same data by the task's
    margin (majority class, training mean, a random policy, ...);
(c) it is not worse than the latest blessed model (beyond the kind's noise allowance: 0 for
    a deterministic metric on the same examples, two standard errors of the paired
    difference for returns of seeded episodes).

`decide` is the rule; `write` and `read` keep the decision beside the ModelBlessing
(`gate.json` in its folder and flat custom properties), so the run summary, `kfx runs`, the
report and the baseline strategies all read the same record. No TFX import here.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Sequence

FILE = "gate.json"
GATED = "gate_decision"  # int custom property 1 on every blessing a gate wrote
CHANGE_TOLERANCE = 1e-10  # deterministic metrics: "not worse" up to float noise
# Metrics that are shares of test examples answered right (one example is 1/rows of them);
# their naive predictor answers the training split's most frequent label.
SHARE_METRICS = ("accuracy", "exact_match")


@dataclasses.dataclass(frozen=True)
class Check:
    """The three parts for one output's metric."""

    key: str
    """'METRIC' or 'OUTPUT/METRIC'."""
    value: float | None
    """The candidate's value on the test split (None: it could not be computed)."""
    higher_is_better: bool
    threshold: float | None
    """The bar of part (a); None: the metric is reported, not gated."""
    naive: float | None = None
    """The naive predictor's value on the same data (None: none was computed)."""
    margin: float = 0.0
    """How far the candidate must beat `naive`, in the metric's units."""
    baseline: float | None = None
    """The latest blessed model's value on the same data (None: there is none yet)."""
    slack: float = CHANGE_TOLERANCE
    """How much worse than `baseline` still counts as not worse (noise)."""
    factor: float | None = None
    """Set when the bar is a multiple of `naive` (`margin` then holds naive × (1 − factor))."""

    @property
    def gated(self) -> bool:
        """Whether this check can refuse the candidate."""
        return self.threshold is not None

    def _better(self, value: float, bar: float) -> bool:
        return value >= bar if self.higher_is_better else value <= bar

    def failures(self) -> list[str]:
        """Which parts fail, each as a reason a person can act on (empty: it passes)."""
        if not self.gated:
            return []
        if self.value is None or math.isnan(self.value):
            return [f"{self.key}: no value was computed on the test split"]
        sign = 1.0 if self.higher_is_better else -1.0
        word = ">=" if self.higher_is_better else "<="
        found = []
        if not self._better(self.value, self.threshold):
            found.append(
                f"{self.key} {self.value:.4g} misses the threshold {word} {self.threshold:g}"
            )
        if self.naive is not None:
            bar = self.naive + sign * self.margin
            if not self._better(self.value, bar):
                found.append(
                    f"{self.key} {self.value:.4g} does not beat the naive predictor "
                    + (
                        f"({self.naive:.4g}) by {self.margin:g}"
                        if self.factor is None
                        else f"enough: it must reach {self.factor:g}x its {self.naive:.4g} "
                        f"({bar:.4g})"
                    )
                )
        if self.baseline is not None:
            bar = self.baseline - sign * self.slack
            if not self._better(self.value, bar):
                found.append(
                    f"{self.key} {self.value:.4g} is worse than the blessed baseline "
                    f"{self.baseline:.4g}"
                    + (f" (beyond noise {self.slack:.3g})" if self.slack > CHANGE_TOLERANCE else "")
                )
        return found


@dataclasses.dataclass(frozen=True)
class Decision:
    """The gate's verdict over every check, main output first."""

    checks: tuple[Check, ...]
    passed: bool
    reason: str

    @property
    def main(self) -> Check:
        """The main output's check (what summaries show first)."""
        return self.checks[0]

    def to_json(self) -> dict:
        """{value, threshold, naive, margin, baseline, passed, reason, checks: [...]}."""
        main = self.main
        return {
            "key": main.key,
            "value": main.value,
            "threshold": main.threshold,
            "naive": main.naive,
            "margin": main.margin,
            "baseline": main.baseline,
            "passed": self.passed,
            "reason": self.reason,
            "checks": [dataclasses.asdict(c) for c in self.checks],
        }

    @classmethod
    def from_json(cls, data: dict) -> Decision:
        """Parses `to_json`'s output."""
        checks = tuple(Check(**c) for c in data["checks"])
        return cls(checks, bool(data["passed"]), str(data["reason"]))


def decide(checks: Sequence[Check]) -> Decision:
    """Blessed only when every gated check passes all three parts.

    Raises:
        ValueError: no check at all, or none is gated (nothing could refuse the model).
    """
    checks = tuple(checks)
    if not any(c.gated for c in checks):
        raise ValueError("the gate has no gated metric: give the main output a threshold")
    failures = [f for c in checks for f in c.failures()]
    if failures:
        return Decision(checks, False, "; ".join(failures))
    main = checks[0]
    parts = [f"{main.key} {main.value:.4g} clears {main.threshold:g}"]
    if main.naive is not None:
        times = "" if main.factor is None else f" ({main.factor:g}x of it)"
        parts.append(f"beats naive {main.naive:.4g} by >= {main.margin:.4g}{times}")
    parts.append(
        "no blessed baseline yet"
        if main.baseline is None
        else f"not worse than the baseline {main.baseline:.4g}"
    )
    return Decision(checks, True, ", ".join(parts))


def factor_margin(naive: float, factor: float, higher_is_better: bool) -> float:
    """The margin that puts the naive bar at `factor` × `naive` (a non-negative metric)."""
    return naive * (factor - 1.0) if higher_is_better else naive * (1.0 - factor)


def paired_slack(candidate: Sequence[float], baseline: Sequence[float], se: float = 2.0) -> float:
    """Noise allowance of paired per-episode returns: `se` standard errors of the difference."""
    import numpy as np

    diff = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    if len(diff) < 2:
        return 0.0
    return float(se * diff.std(ddof=1) / np.sqrt(len(diff)))


def write(blessing_uri: str, decision: Decision) -> dict[str, float | int | str]:
    """Writes `gate.json` and the BLESSED/NOT_BLESSED marker; returns the flat properties.

    The properties go on the ModelBlessing artifact (`blessed` as TFX's Pusher reads it).
    """
    import tensorflow as tf

    from components import artifacts

    artifacts.write_json(blessing_uri, FILE, decision.to_json())
    marker = "BLESSED" if decision.passed else "NOT_BLESSED"
    with tf.io.gfile.GFile(os.path.join(blessing_uri, marker), "w") as handle:
        handle.write("")
    flat: dict[str, float | int | str] = {
        "blessed": int(decision.passed),
        GATED: 1,
        "gate_reason": decision.reason,
    }
    for name in ("value", "threshold", "naive", "margin", "baseline"):
        value = getattr(decision.main, name)
        if value is not None:
            flat[f"gate_{name}"] = float(value)
    return flat


def record(blessing, decision: Decision, model, baseline_model=None) -> None:
    """Writes `decision` beside a ModelBlessing artifact and sets its properties.

    Besides the gate's own, the properties TFX's Evaluator sets (`blessed`,
    `current_model_id`, ...), which TFX's Pusher and the baseline strategies read.
    """
    from components import artifacts

    artifacts.set_properties(blessing, write(blessing.uri, decision))
    blessing.set_string_custom_property("current_model", model.uri)
    blessing.set_int_custom_property("current_model_id", model.id)
    if baseline_model is not None:
        blessing.set_string_custom_property("baseline_model", baseline_model.uri)
        blessing.set_int_custom_property("baseline_model_id", baseline_model.id)


def read(blessing_uri: str) -> Decision | None:
    """The decision a gate wrote beside a blessing (None: no gate wrote this one)."""
    import tensorflow as tf

    path = os.path.join(blessing_uri, FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as handle:
        return Decision.from_json(json.load(handle))
