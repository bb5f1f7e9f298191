"""RLTrainer: trains a policy against a gymnasium environment (TFX's Trainer needs Examples).

The learning code stays in the task's trainer package; this component only wires it to TFX:
the package's `train_policy(config, log_dir, base_model)` gets a `TrainerConfig` and returns a
`monitor.TrainResult` holding a Keras policy network (Q-values, probabilities or logits per
action); the component exports it as a SavedModel (observations → action, score and the raw
output, see `trainers.rl.export`) with its manifest in the Model artifact, and keeps the
TensorBoard scalars and the training summary in ModelRun. Artifacts are read and written
through `tf.io.gfile`, so any filesystem TensorFlow knows works (local, gs://, ram://).
"""

import importlib
from collections.abc import Mapping

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelRun

from components import artifacts

SUMMARY_FILE = "summary.json"
PROPERTIES = ("env_steps", "steps_to_target", "wall_s")  # summary numbers the Model carries


def train_and_export(
    trainer_module: str,
    config: str | Mapping,
    model_uri: str,
    model_run_uri: str,
    base_model_uri: str | None = None,
) -> dict:
    """Trains with `trainer_module.train_policy` and writes the policy and the summary.

    Args:
        trainer_module: Importable module with `train_policy(config, log_dir, base_model)`.
        config: The pipeline's `TrainerConfig`, as its JSON text (or dict).
        model_uri: The Model artifact's URI; the SavedModel goes to its serving directory.
        model_run_uri: The ModelRun artifact's URI: TensorBoard logs and `SUMMARY_FILE`.
        base_model_uri: A previous Model artifact's URI to warm-start from, or None.

    Returns:
        The training summary (`TrainResult.summary` and `warm_started_from`).

    """
    import numpy as np
    from tfx.utils import path_utils

    from trainers import manifest
    from trainers.contract import TrainerConfig
    from trainers.rl import envs, export

    module = importlib.import_module(trainer_module)
    start = path_utils.serving_model_dir(base_model_uri) if base_model_uri else None
    result = module.train_policy(TrainerConfig.from_custom_config(config), model_run_uri, start)
    serving_dir = path_utils.serving_model_dir(model_uri)  # where Pusher looks
    obs_shape, n_actions = envs.env_spec(result.env_id)
    obs_dim = int(np.prod(obs_shape))
    export.save_policy(result.model, serving_dir, obs_dim, result.outputs)
    # What `kfx predict` needs: one CSV column per observation component, what `score` is.
    policy = export.policy_manifest(result.env_id, obs_dim, n_actions, result.outputs)
    manifest.write(serving_dir, policy)
    summary = dict(result.summary, warm_started_from=start)
    artifacts.write_json(model_run_uri, SUMMARY_FILE, summary)
    return summary


# The RL pipeline calls this.
@component
def RLTrainer(  # noqa: N802 (TFX component names are classes)
    model: OutputArtifact[Model],
    model_run: OutputArtifact[ModelRun],
    trainer_module: Parameter[str],
    config: Parameter[str] = "{}",
    base_model: InputArtifact[Model] = None,
) -> None:
    """Runs `train_and_export` (`config`: `TrainerConfig.to_json()`) on the artifacts' URIs."""
    base_model = artifacts.present(base_model)  # a lookup may have found none
    base_uri = base_model.uri if base_model is not None else None
    summary = train_and_export(trainer_module, config, model.uri, model_run.uri, base_uri)
    found = {key: float(summary[key]) for key in PROPERTIES if summary.get(key) is not None}
    artifacts.set_properties(model, found)
