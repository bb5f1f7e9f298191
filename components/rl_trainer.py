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

SERVING_DIR = "Format-Serving"  # where Pusher and the policy evaluator look (TFX convention)
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
    from trainers.rl import export

    module = importlib.import_module(trainer_module)
    start = os.path.join(base_model.uri, SERVING_DIR) if base_model is not None else None
    result = module.train_policy(json.loads(config), model_run.uri, start)
    export.save_policy(result.model, os.path.join(model.uri, SERVING_DIR), result.env_id)
    summary = dict(result.summary, warm_started_from=start)
    os.makedirs(model_run.uri, exist_ok=True)
    with open(os.path.join(model_run.uri, SUMMARY_FILE), "w") as handle:
        json.dump(summary, handle, indent=2)
    for key in ("env_steps", "steps_to_target", "wall_s"):
        if summary.get(key) is not None:
            model.set_float_custom_property(key, float(summary[key]))
