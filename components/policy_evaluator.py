"""PolicyEvaluator: the RL gate. Candidate, baseline and a random policy play the same episodes.

All three play the same fixed-seed greedy episodes (seeds `seed + i`, disjoint from the seeds
training evaluated on), so comparisons are paired. The candidate is blessed when its mean
return clears the threshold, beats the random policy's by `margin`, and is not worse than the
baseline's beyond noise (two standard errors of the paired difference); see components/gate.py.
The blessing carries TFX's Evaluator properties ('blessed', 'current_model_id', ...) and the
gate's record, so TFX's Pusher and the baseline strategies treat it alike.
"""

import os

import numpy as np
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelBlessing, ModelEvaluation

from components import artifacts, gate

RETURNS_FILE = "returns.json"
NOISE_SE = 2.0  # "worse beyond noise": more than this many standard errors below the baseline
METRIC = "mean_return"


def random_returns(env_id: str, episodes: int, seed: int) -> np.ndarray:
    """Returns of a uniformly random policy on the evaluation episodes (the naive predictor)."""
    from trainers.rl import envs

    _, n_actions = envs.env_spec(env_id)
    rng = np.random.default_rng(seed)

    def act(observations):
        return rng.integers(0, n_actions, size=len(observations))

    return envs.evaluate(act, env_id, episodes, seed)


def decision(candidate, baseline, naive, threshold: float, margin: float) -> gate.Decision:
    """The gate's decision from per-episode returns (`baseline` None when there is none)."""
    check = gate.Check(
        METRIC,
        float(np.mean(candidate)),
        True,
        threshold,
        naive=float(np.mean(naive)),
        margin=margin,
        baseline=None if baseline is None else float(np.mean(baseline)),
        slack=0.0 if baseline is None else gate.paired_slack(candidate, baseline, NOISE_SE),
    )
    return gate.decide([check])


def evaluate(
    model_dir: str,
    baseline_dir: str | None,
    env_id: str,
    threshold: float,
    margin: float,
    episodes: int,
    seed: int,
) -> tuple[gate.Decision, dict]:
    """Plays the episodes; returns the decision and the report written to the evaluation.

    Raises:
        FileNotFoundError: a policy's SavedModel is missing (the gate fails closed).
    """
    import tensorflow as tf

    from trainers.rl import envs, export

    def returns(folder):
        if not tf.io.gfile.exists(os.path.join(folder, "saved_model.pb")):
            raise FileNotFoundError(f"{folder}: no SavedModel; the gate cannot judge the policy")
        return envs.evaluate(export.load_policy(folder), env_id, episodes, seed).tolist()

    candidate = returns(model_dir)
    baseline = returns(baseline_dir) if baseline_dir is not None else None
    naive = random_returns(env_id, episodes, seed).tolist()
    verdict = decision(candidate, baseline, naive, threshold, margin)
    report = {
        "env_id": env_id,
        "episodes": episodes,
        "seed": seed,
        "threshold": threshold,
        "mean_return": float(np.mean(candidate)),
        "std_return": float(np.std(candidate)),
        "returns": candidate,
        "baseline_returns": baseline,
        "random_returns": naive,
        "blessed": verdict.passed,
        "reason": verdict.reason,
    }
    return verdict, report


# The RL and offline-RL pipelines call this.
@component
def PolicyEvaluator(  # noqa: N802 (TFX component names are classes)
    model: InputArtifact[Model],
    evaluation: OutputArtifact[ModelEvaluation],
    blessing: OutputArtifact[ModelBlessing],
    env_id: Parameter[str],
    threshold: Parameter[float],
    margin: Parameter[float] = 0.0,
    episodes: Parameter[int] = 100,
    seed: Parameter[int] = 10_000,
    baseline_model: InputArtifact[Model] = None,
) -> None:
    """Evaluates candidate, baseline and a random policy; writes returns and the blessing."""
    from tfx.utils import path_utils

    baseline_model = artifacts.present(baseline_model)  # a lookup may have found none
    baseline_dir = (
        path_utils.serving_model_dir(baseline_model.uri) if baseline_model is not None else None
    )
    verdict, report = evaluate(
        path_utils.serving_model_dir(model.uri),
        baseline_dir,
        env_id,
        threshold,
        margin,
        episodes,
        seed,
    )
    artifacts.write_json(evaluation.uri, RETURNS_FILE, report)
    gate.record(blessing, verdict, model, baseline_model)
    blessing.set_float_custom_property("metric_value", report["mean_return"])
