"""PolicyEvaluator: greedy episodes for the candidate and the baseline, and a ModelBlessing.

Both policies play the same fixed-seed episodes, so the comparison is paired. The candidate is
blessed when its mean return reaches the threshold and it is not worse than the baseline beyond
noise: its mean paired difference may not fall below -2 standard errors. The blessing carries
the same custom properties as TFX's Evaluator ('blessed', 'current_model_id', ...), so TFX's
Pusher and the baseline resolvers treat it alike.
"""

import json
import os

import numpy as np
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelBlessing, ModelEvaluation

RETURNS_FILE = "returns.json"
NOISE_SE = 2.0  # "worse beyond noise": more than this many standard errors below the baseline


def verdict(candidate, baseline, threshold: float) -> tuple[bool, str]:
    """Blessing decision from per-episode returns (baseline None when there is none)."""
    candidate = np.asarray(candidate, dtype=float)
    mean = float(candidate.mean())
    if mean < threshold:
        return False, f"mean return {mean:.1f} < threshold {threshold:g}"
    if baseline is None:
        return True, f"mean return {mean:.1f} >= {threshold:g}; no baseline"
    diff = candidate - np.asarray(baseline, dtype=float)
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    if diff.mean() < -NOISE_SE * se:
        return False, f"worse than the baseline by {-diff.mean():.1f} (> {NOISE_SE:g} SE {se:.1f})"
    return True, f"mean return {mean:.1f}; vs baseline {diff.mean():+.1f} (SE {se:.1f})"


# The RL pipeline calls this.
@component
def PolicyEvaluator(  # noqa: N802 (TFX component names are classes)
    model: InputArtifact[Model],
    evaluation: OutputArtifact[ModelEvaluation],
    blessing: OutputArtifact[ModelBlessing],
    env_id: Parameter[str],
    threshold: Parameter[float],
    episodes: Parameter[int] = 100,
    seed: Parameter[int] = 10_000,
    baseline_model: InputArtifact[Model] = None,
) -> None:
    """Evaluates candidate (and baseline) greedily and writes returns and the blessing."""
    from tfx.utils import path_utils

    from trainers.rl import envs, export

    def returns(artifact):
        policy = export.load_policy(path_utils.serving_model_dir(artifact.uri))
        return envs.evaluate(policy, env_id, episodes, seed).tolist()

    candidate = returns(model)
    baseline = returns(baseline_model) if baseline_model is not None else None
    blessed, reason = verdict(candidate, baseline, threshold)
    report = {
        "env_id": env_id,
        "episodes": episodes,
        "seed": seed,
        "threshold": threshold,
        "mean_return": float(np.mean(candidate)),
        "std_return": float(np.std(candidate)),
        "returns": candidate,
        "baseline_returns": baseline,
        "blessed": blessed,
        "reason": reason,
    }
    os.makedirs(evaluation.uri, exist_ok=True)
    with open(os.path.join(evaluation.uri, RETURNS_FILE), "w") as handle:
        json.dump(report, handle, indent=2)
    blessing.set_int_custom_property("blessed", int(blessed))
    blessing.set_string_custom_property("current_model", model.uri)
    blessing.set_int_custom_property("current_model_id", model.id)
    blessing.set_float_custom_property("metric_value", report["mean_return"])
    if baseline_model is not None:
        blessing.set_string_custom_property("baseline_model", baseline_model.uri)
        blessing.set_int_custom_property("baseline_model_id", baseline_model.id)
    os.makedirs(blessing.uri, exist_ok=True)
    open(os.path.join(blessing.uri, "BLESSED" if blessed else "NOT_BLESSED"), "w").close()
