"""ModelOptimizer: the TFX step that prunes and quantises the blessed Keras model, measured.

Runs after the Evaluator. The work is model code, in `trainers.common.optimization` (see
`job.optimize`); this module resolves the artifacts' paths, skips a model the Evaluator did not
bless, and records the report's numbers as custom properties of the output.

The output is a Model artifact: the trained SavedModel, unchanged (it is what the Evaluator
blessed), plus `model.tflite` (dynamic range), `model_int8.tflite` (full int8) and
`assets.extra/optimization.json`; TFX's Pusher pushes it, gated by the Evaluator's blessing as
before. Artifacts are read and written through tf.io.gfile, so the URIs may be remote.
"""

import importlib
import json
import os

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing, TransformGraph

from components import artifacts
from trainers.common.optimization import job
from trainers.common.optimization.data import transformed_dataset
from trainers.common.optimization.job import INT8_FILE, REPORT_FILE, TFLITE_FILE
from trainers.common.optimization.params import OptimizeParams
from trainers.common.optimization.scoring import tflite_score

# Besides the component, what the pipeline side (`--set optimize.KEY=VALUE`) and the e2e test
# still import from here; their home is trainers.common.optimization.
__all__ = [
    "INT8_FILE",
    "REPORT_FILE",
    "TFLITE_FILE",
    "ModelOptimizer",
    "OptimizeParams",
    "tflite_score",
    "transformed_dataset",
]


def serving_dir(model) -> str:
    """The SavedModel directory of a Trainer's Model artifact.

    Raises:
        FileNotFoundError: no `saved_model.pb` there (tf.io.gfile, so the URI may be remote).
    """
    import tensorflow as tf
    from tfx.utils import path_utils

    # serving_model_dir only joins names; serving_model_path would probe through TFX's fileio.
    path = path_utils.serving_model_dir(model.uri, path_utils.is_old_model_artifact(model))
    if not tf.io.gfile.exists(os.path.join(path, "saved_model.pb")):
        raise FileNotFoundError(f"{path}: no saved_model.pb in the Trainer's model artifact")
    return path


def record(artifact, report) -> None:
    """Sets the report's flat values (`job.properties`) as custom properties of `artifact`."""
    artifact.set_int_custom_property("optimized", 1)
    artifacts.set_properties(artifact, job.properties(report))


# The supervised pipeline calls this after the Evaluator (`kfx run TASK --optimize`).
@component
def ModelOptimizer(  # noqa: N802 (TFX component names are classes)
    model: InputArtifact[Model],
    examples: InputArtifact[Examples],
    transform_graph: InputArtifact[TransformGraph],
    optimized_model: OutputArtifact[Model],
    label_key: Parameter[str],
    problem: Parameter[str],
    import_modules: Parameter[str] = "",
    params: Parameter[str] = "{}",
    score_split: Parameter[str] = "test",
    blessing: InputArtifact[ModelBlessing] = None,
) -> None:
    """Writes SavedModel + pruned/quantised TFLite models and their scores; skips if not blessed.

    Args:
        model: the Trainer's model (a tf_keras SavedModel from `signatures.export`).
        examples: Transform's transformed examples (train and `score_split`).
        transform_graph: Transform's output, for the transformed feature spec.
        optimized_model: the SavedModel, `model.tflite`, `model_int8.tflite`, and the report.
        label_key: transformed label key.
        problem: 'classification' or 'regression'.
        import_modules: comma-separated modules to import first, so the Keras model's custom
            layers are registered (e.g. the task's trainer module).
        params: JSON of `OptimizeParams` overrides.
        score_split: the split every variant is scored on (the gate's test split).
        blessing: the gate's verdict; a model it did not bless is not optimised.
    """
    import tensorflow_transform as tft
    from tfx.types import artifact_utils
    from tfx.utils import path_utils

    from trainers.common import hparams

    if blessing is not None and not blessing.get_int_custom_property("blessed"):
        optimized_model.set_int_custom_property("optimized", 0)
        return
    for module in filter(None, (m.strip() for m in import_modules.split(","))):
        importlib.import_module(module)
    settings = hparams.override(OptimizeParams(), json.loads(params or "{}"))
    serving = serving_dir(model)

    def split(name):
        return os.path.join(artifact_utils.get_split_uri([examples], name), "*")

    feature_spec = tft.TFTransformOutput(transform_graph.uri).transformed_feature_spec()
    report, blobs = job.optimize(
        serving, split("train"), split(score_split), feature_spec, label_key, problem, settings
    )
    job.save(serving, path_utils.serving_model_dir(optimized_model.uri), report, blobs)
    record(optimized_model, report)
