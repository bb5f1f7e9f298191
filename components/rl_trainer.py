"""RLTrainer: trains a policy against a gymnasium environment (TFX's Trainer needs Examples).

The learning code stays in the task's trainer package; this component only wires it to TFX:
the package's `train_policy(config, log_dir, base_model)` returns a Keras Q-network and a
training summary; the component exports it as a SavedModel (observation → action, Q-values)
in the Model artifact and keeps TensorBoard scalars and the summary in ModelRun.
"""

import importlib
import json
import os

from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model, ModelRun

SUMMARY_FILE = "summary.json"


# The RL pipeline calls this.
@component
def RLTrainer(  # noqa: N802 (TFX component names are classes)
    model: OutputArtifact[Model],
    model_run: OutputArtifact[ModelRun],
    trainer_module: Parameter[str],
    config: Parameter[str] = "{}",
    base_model: InputArtifact[Model] = None,
) -> None:
    """Runs `trainer_module.train_policy` and exports the policy with its summary."""
    from tfx.utils import path_utils

    from trainers.common.signatures import MANIFEST
    from trainers.rl import envs, export

    module = importlib.import_module(trainer_module)
    start = path_utils.serving_model_dir(base_model.uri) if base_model is not None else None
    result = module.train_policy(json.loads(config), model_run.uri, start)
    serving_dir = path_utils.serving_model_dir(model.uri)  # where Pusher looks
    obs_shape, n_actions = envs.env_spec(result.env_id)
    export.save_policy(result.model, serving_dir, obs_shape[0])
    manifest = {  # what `kfx predict` needs: one CSV column per observation component
        "kind": "policy",
        "env_id": result.env_id,
        "features": {f"obs_{i}": "FLOAT" for i in range(obs_shape[0])},
        "actions": n_actions,
    }
    os.makedirs(os.path.join(serving_dir, "assets.extra"), exist_ok=True)
    with open(os.path.join(serving_dir, MANIFEST), "w") as handle:
        json.dump(manifest, handle, indent=2)
    summary = dict(result.summary, warm_started_from=start)
    os.makedirs(model_run.uri, exist_ok=True)
    with open(os.path.join(model_run.uri, SUMMARY_FILE), "w") as handle:
        json.dump(summary, handle, indent=2)
    for key in ("env_steps", "steps_to_target", "wall_s"):
        if summary.get(key) is not None:
            model.set_float_custom_property(key, float(summary[key]))
