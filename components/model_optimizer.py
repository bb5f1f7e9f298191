"""ModelOptimizer: pruning and TFLite quantisation of the blessed Keras model, measured.

Runs after the Evaluator. It reloads the Trainer's Keras model from its SavedModel, prunes the
weights of every layer tfmot can prune (magnitude pruning, fine-tuned for a few steps on the
transformed training examples with the task's loss; other layers, e.g. custom ones, stay as
they are; a subclassed model, which tfmot cannot prune, goes on unpruned), then converts the
pruned model to TFLite twice: dynamic-range quantisation
(`model.tflite`) and full int8 with a representative dataset drawn from the training examples
(`model_int8.tflite`). Each variant is scored on the transformed eval split, and sizes are
recorded against the model's float32 weights.

The output is a Model artifact: the trained SavedModel, unchanged (it is what the Evaluator
blessed), plus both `.tflite` files and `assets.extra/optimization.json`; TFX's Pusher pushes
it, gated by the Evaluator's blessing as before. The numbers are also custom properties of the
artifact. The TFLite models take the *transformed* features (the Keras model's inputs): run the
Transform graph first, as the SavedModel's serving signature does.
"""

import dataclasses
import gzip
import importlib
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing, TransformGraph

TFLITE_FILE = "model.tflite"  # dynamic-range quantised: float I/O, int8 weights
INT8_FILE = "model_int8.tflite"  # full integer: int8 weights and activations
REPORT_FILE = os.path.join("assets.extra", "optimization.json")  # beside kfx.json
PARAMS_PREFIX = "optimize."  # `--set optimize.KEY=VALUE` reaches OptimizeParams
# TFLite's int8 ONE_HOT copies the on/off values' int8 codes without rescaling them to its
# output's scale: one-hot features came out ×2.5 and a tabular model lost 6 points. Kept float.
FLOAT_OPS = ("ONE_HOT",)


@dataclasses.dataclass(frozen=True)
class OptimizeParams:
    """How the optimizer prunes, fine-tunes and calibrates (`--set optimize.KEY=VALUE`)."""

    target_sparsity: float = 0.5
    """Fraction of each prunable kernel set to zero by the end of fine-tuning."""
    prune_steps: int = 200
    """Fine-tuning steps under the pruning schedule (sparsity ramps up over the first 70%)."""
    batch_size: int = 32
    """Examples per fine-tuning batch."""
    learning_rate: float = 1e-3
    """Adam's learning rate while fine-tuning."""
    calibration_examples: int = 256
    """Training examples the int8 converter calibrates activation ranges on."""
    seed: int = 42
    """Seed of shuffling and fine-tuning."""


def split_overrides(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--set` values split into (trainer's, optimizer's without the `optimize.` prefix)."""
    trainer = {k: v for k, v in values.items() if not k.startswith(PARAMS_PREFIX)}
    optimizer = {
        k[len(PARAMS_PREFIX) :]: v for k, v in values.items() if k.startswith(PARAMS_PREFIX)
    }
    return trainer, optimizer


# ---- sizes --------------------------------------------------------------------------------------


def weights_bytes(model) -> int:
    """Bytes of the model's weights as stored (float32: 4 per value)."""
    return int(sum(w.shape.num_elements() * w.dtype.size for w in model.weights))


def weights_gzip_bytes(model) -> int:
    """Gzip-compressed size of the weights: what pruning's zeros save in a compressed download."""
    import numpy as np

    blob = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
    return gzip_bytes(blob)


def gzip_bytes(blob: bytes) -> int:
    """Size of `blob` after gzip at the default level."""
    return len(gzip.compress(blob))


def dir_bytes(path: str) -> int:
    """Total size of the files under `path` (local or remote, through tf.io.gfile)."""
    import tensorflow as tf

    total = 0
    for root, _, files in tf.io.gfile.walk(path):
        total += sum(tf.io.gfile.stat(os.path.join(root, f)).length for f in files)
    return int(total)


def sparsity(model) -> float:
    """Fraction of zeros among the model's kernel weights (biases, norms excluded)."""
    import numpy as np

    kernels = [w.numpy() for w in model.weights if "kernel" in w.name]
    total = sum(k.size for k in kernels)
    return float(sum(int(np.sum(k == 0)) for k in kernels) / total) if total else 0.0


# ---- data ---------------------------------------------------------------------------------------


def transformed_dataset(
    file_pattern: str | Sequence[str],
    feature_spec: Mapping[str, Any],
    label_key: str,
    input_names: Sequence[str],
    batch_size: int,
    shuffle_seed: int | None = None,
):
    """(inputs by name, label) batches of transformed tf.Examples (gzipped TFRecords).

    Args:
        file_pattern: Transform's `transformed_examples` files of one split.
        feature_spec: the transformed feature spec (`TFTransformOutput.transformed_feature_spec`).
        label_key: transformed label key.
        input_names: the Keras model's input names; other features are dropped.
        batch_size: examples per batch.
        shuffle_seed: None reads once in file order (evaluation); a seed shuffles and repeats
            forever (fine-tuning, calibration).
    """
    import tensorflow as tf

    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(f"no transformed examples match {patterns}")
    data = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if shuffle_seed is not None:
        data = data.shuffle(10_000, seed=shuffle_seed).repeat()
    names = list(input_names)

    def parse(serialized):
        features = tf.io.parse_example(serialized, feature_spec)
        return {k: features[k] for k in names}, tf.reshape(features[label_key], [-1])

    return data.batch(batch_size).map(parse)


def representative_dataset(dataset, count: int) -> Callable[[], Iterator[dict]]:
    """The int8 converter's calibration data: `count` single examples of `dataset`.

    Args:
        dataset: (inputs by name, label) batches, shuffled (see `transformed_dataset`).
        count: examples to yield.

    Returns:
        A generator function yielding {input name: array with a batch dimension of 1}.
    """

    def generate():
        for inputs, _ in dataset.unbatch().batch(1).take(count):
            yield {k: v.numpy() for k, v in inputs.items()}

    return generate


# ---- scoring ------------------------------------------------------------------------------------


def score(predictions, labels, problem: str) -> float:
    """Accuracy of class probabilities, or RMSE of regressed values."""
    import numpy as np

    predictions, labels = np.asarray(predictions), np.asarray(labels).reshape(-1)
    if problem == "classification":
        return float(np.mean(predictions.reshape(len(labels), -1).argmax(-1) == labels))
    return float(np.sqrt(np.mean((predictions.reshape(-1) - labels) ** 2)))


def metric_name(problem: str) -> str:
    """The metric `score` computes for `problem`."""
    return "accuracy" if problem == "classification" else "rmse"


def keras_score(model, dataset, problem: str) -> float:
    """`score` of a Keras model (first output) over every batch of `dataset`."""
    import numpy as np

    predictions, labels = [], []
    for inputs, label in dataset:
        out = model(inputs, training=False)
        predictions.append(np.asarray(out[0] if isinstance(out, list | tuple) else out))
        labels.append(label.numpy())
    return score(np.concatenate(predictions), np.concatenate(labels), problem)


def tflite_score(blob: bytes, dataset, problem: str, output: str | None = None) -> float:
    """`score` of a TFLite model run through its `serving_default` signature.

    Args:
        blob: the TFLite flatbuffer.
        dataset: (inputs by name, label) batches; input names are the signature's.
        problem: 'classification' or 'regression'.
        output: signature output to score (default: the only one, else the first by name).
    """
    import numpy as np
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_content=blob).get_signature_runner()
    predictions, labels = [], []
    for inputs, label in dataset:
        out = runner(**{k: v.numpy() for k, v in inputs.items()})
        predictions.append(out[output] if output in out else out[sorted(out)[0]])
        labels.append(label.numpy())
    return score(np.concatenate(predictions), np.concatenate(labels), problem)


# ---- pruning and conversion ---------------------------------------------------------------------


def is_graph_model(model) -> bool:
    """True for Functional and Sequential models (tfmot prunes those), False for subclassed."""
    import tensorflow as tf

    return isinstance(model, tf.keras.Sequential) or bool(getattr(model, "_is_graph_network", 0))


def keras_core(model):
    """The Functional model of a loaded SavedModel, without extra tracked layers.

    `signatures.export` attaches the Transform layer as `model.tft_layer`; rebuilding from
    inputs/outputs leaves it (and any other non-graph attribute) out, so the model clones.
    A subclassed model has no graph to rebuild and is returned as it is.
    """
    import tensorflow as tf

    if not is_graph_model(model):
        return model
    return tf.keras.Model(model.inputs, model.outputs, name=model.name)


def loss_for(problem: str):
    """The trainers' loss (models output class probabilities, or values)."""
    import tensorflow as tf

    if problem == "classification":
        return tf.keras.losses.SparseCategoricalCrossentropy()
    return tf.keras.losses.MeanSquaredError()


def _policy():
    """A tfmot pruning policy that wraps what tfmot supports and leaves the rest as is."""
    import tensorflow_model_optimization as tfmot
    from tensorflow_model_optimization.python.core.sparsity.keras.prune_registry import (
        PruneRegistry,
    )

    class SupportedLayers(tfmot.sparsity.keras.PruningPolicy):
        """Custom layers (FeatureVector, Denormalize, ...) stay unwrapped, not an error."""

        def allow_pruning(self, layer):
            return isinstance(layer, tfmot.sparsity.keras.PrunableLayer) or PruneRegistry.supports(
                layer
            )

        def ensure_model_supports_pruning(self, model):
            return None

    return SupportedLayers()


def prune(model, train, problem: str, params: OptimizeParams):
    """Magnitude-prunes `model` while fine-tuning on `train`.

    Returns:
        The stripped model and how many of its layers were pruned.

    Sparsity ramps polynomially from 0 to `params.target_sparsity` over the first 70% of
    `params.prune_steps`, then holds while the remaining weights recover. Layers of `model`
    are reused (and changed) by the result.
    """
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    tf.keras.utils.set_random_seed(params.seed)
    steps = max(1, params.prune_steps)
    end = max(1, int(steps * 0.7))
    schedule = tfmot.sparsity.keras.PolynomialDecay(
        initial_sparsity=0.0,
        final_sparsity=params.target_sparsity,
        begin_step=0,
        end_step=end,
        frequency=max(1, end // 10),
    )
    pruned = tfmot.sparsity.keras.prune_low_magnitude(
        model, pruning_schedule=schedule, pruning_policy=_policy()
    )
    pruned.compile(optimizer=tf.keras.optimizers.Adam(params.learning_rate), loss=loss_for(problem))
    pruned.fit(
        train,
        steps_per_epoch=steps,
        epochs=1,
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()],
        verbose=0,
    )
    return tfmot.sparsity.keras.strip_pruning(pruned), _wrapped(pruned)


def _wrapped(model) -> int:
    """Layers of `model` (nested models included) with weights under a pruning wrapper."""
    from tensorflow_model_optimization.python.core.sparsity.keras.pruning_wrapper import (
        PruneLowMagnitude,
    )

    count = 0
    for layer in model.layers:
        if isinstance(layer, PruneLowMagnitude):
            count += bool(layer.prunable_weights)  # BatchNorm, Dropout... are wrapped, not pruned
        elif hasattr(layer, "layers"):
            count += _wrapped(layer)
    return count


def to_tflite(model, representative: Callable | None = None) -> bytes:
    """TFLite flatbuffer of a Keras model, quantised.

    Without `representative`: dynamic-range quantisation (int8 weights, float activations).
    With it: full integer quantisation of weights and activations, calibrated on the
    representative examples; ops without a correct int8 kernel (`FLOAT_OPS`, and any op the
    converter cannot quantise) run in float. Inputs and outputs stay float (ids int64), so
    callers feed the same transformed features as to the SavedModel.
    """
    import tensorflow as tf

    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if representative is None:
        return converter.convert()
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
        tf.lite.OpsSet.TFLITE_BUILTINS,
    ]
    # The debugger is TFLite's way to keep chosen ops out of quantisation.
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter,
        debug_dataset=representative,
        debug_options=tf.lite.experimental.QuantizationDebugOptions(denylisted_ops=list(FLOAT_OPS)),
    )
    return debugger.get_nondebug_quantized_model()


def _converter(model):
    """A TFLite converter whose signature inputs are named like the model's inputs.

    A subclassed model called with a dict would come out with one input `args_0`; converting a
    function of a dict of named specs keeps the feature names.
    """
    import tensorflow as tf

    if is_graph_model(model):
        return tf.lite.TFLiteConverter.from_keras_model(model)
    saved = model._get_save_spec()  # the inputs the model was called with when saved
    if not isinstance(saved, dict):
        raise ValueError(f"model {model.name!r}: a subclassed model must take a dict of features")
    spec = {k: tf.TensorSpec(s.shape, s.dtype, name=k) for k, s in saved.items()}
    serve = tf.function(lambda inputs: model(inputs, training=False), input_signature=[spec])
    return tf.lite.TFLiteConverter.from_concrete_functions([serve.get_concrete_function()], model)


def float_ops(blob: bytes) -> list[str]:
    """Ops of a TFLite model that compute float32 outputs (DEQUANTIZE excluded)."""
    import numpy as np
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=blob)
    dtypes = {t["index"]: t["dtype"] for t in interpreter.get_tensor_details()}
    found = set()
    for op in interpreter._get_ops_details():  # the public API lists tensors, not ops
        outputs = [dtypes.get(i) for i in op["outputs"]]
        if op["op_name"] != "DEQUANTIZE" and np.float32 in outputs:
            found.add(op["op_name"])
    return sorted(found)


# ---- the whole job ------------------------------------------------------------------------------


def optimize(
    serving_dir: str,
    train_files: str,
    eval_files: str,
    feature_spec: Mapping[str, Any],
    label_key: str,
    problem: str,
    params: OptimizeParams,
) -> tuple[dict, dict[str, bytes]]:
    """Prunes and quantises the Keras model in `serving_dir`; scores and sizes each variant.

    Returns:
        The report (see `assets.extra/optimization.json`) and {file name: TFLite flatbuffer}.
    """
    import tensorflow as tf

    clock = time.monotonic()
    model = keras_core(tf.keras.models.load_model(serving_dir, compile=False))
    graph = is_graph_model(model)
    if graph and len(model.outputs) != 1:
        raise ValueError(
            f"{serving_dir}: the model has {len(model.outputs)} outputs; the ModelOptimizer "
            "fine-tunes and scores single-output models (run without --optimize)"
        )
    # A subclassed model takes what the trainers feed: every transformed feature but the label.
    names = list(model.input_names) if graph else [k for k in feature_spec if k != label_key]
    eval_data = transformed_dataset(eval_files, feature_spec, label_key, names, 256)
    train = transformed_dataset(
        train_files, feature_spec, label_key, names, params.batch_size, params.seed
    )
    labels = sum(int(y.shape[0]) for _, y in eval_data)
    floats = weights_bytes(model)
    report: dict[str, Any] = {
        "metric": metric_name(problem),
        "problem": problem,
        "eval_examples": labels,
        "params": dataclasses.asdict(params),
        "float_weights_bytes": floats,
        "seconds": {},
    }
    variants: dict[str, dict] = {
        "saved_model": {
            "bytes": dir_bytes(serving_dir),
            "weights_bytes": floats,
            "weights_gzip_bytes": weights_gzip_bytes(model),
            "value": keras_score(model, eval_data, problem),
        }
    }
    report["seconds"]["load_and_score"] = time.monotonic() - clock

    clock = time.monotonic()
    # tfmot prunes Functional and Sequential models; a subclassed one is quantised unpruned.
    stripped, layers = prune(model, train, problem, params) if graph else (model, 0)
    variants["pruned"] = {
        "layers": layers,
        "weights_bytes": weights_bytes(stripped),
        "weights_gzip_bytes": weights_gzip_bytes(stripped),
        "sparsity": sparsity(stripped),
        "value": keras_score(stripped, eval_data, problem),
    }
    report["seconds"]["prune"] = time.monotonic() - clock

    output = model.output_names[0] if graph else None
    blobs: dict[str, bytes] = {}
    calibration = representative_dataset(train, params.calibration_examples)
    for variant, file, rep in (
        ("dynamic_range", TFLITE_FILE, None),
        ("int8", INT8_FILE, calibration),
    ):
        clock = time.monotonic()
        blob = blobs[file] = to_tflite(stripped, rep)
        variants[variant] = {
            "file": file,
            "float_ops": ",".join(float_ops(blob)),
            "bytes": len(blob),
            "gzip_bytes": gzip_bytes(blob),
            "ratio": floats / len(blob),
            "value": tflite_score(blob, eval_data, problem, output),
        }
        report["seconds"][variant] = time.monotonic() - clock
    base = variants["saved_model"]["value"]
    for values in variants.values():
        values["change"] = values["value"] - base
    report["variants"] = variants
    return report, blobs


def save(serving_dir: str, dest: str, report: Mapping[str, Any], blobs: Mapping[str, bytes]):
    """Writes the SavedModel (copied), the TFLite files and the report into `dest`."""
    import tensorflow as tf
    from tfx.utils import io_utils

    io_utils.copy_dir(serving_dir, dest)
    for name, blob in blobs.items():
        with tf.io.gfile.GFile(os.path.join(dest, name), "wb") as handle:
            handle.write(blob)
    tf.io.gfile.makedirs(os.path.dirname(os.path.join(dest, REPORT_FILE)))
    with tf.io.gfile.GFile(os.path.join(dest, REPORT_FILE), "w") as handle:
        handle.write(json.dumps(report, indent=2))


def properties(report: Mapping[str, Any]) -> dict[str, float | int | str]:
    """Flat custom properties of a report: `<variant>_<key>` plus the metric's name."""
    flat: dict[str, float | int | str] = {
        "metric": report["metric"],
        "eval_examples": report["eval_examples"],
        "float_weights_bytes": report["float_weights_bytes"],
        "variants": ",".join(report["variants"]),  # how pipelines/metadata.py groups the rest
    }
    for variant, values in report["variants"].items():
        for key, value in values.items():
            if key == "value":
                key = report["metric"]
            flat[f"{variant}_{key}"] = value
    return flat


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
    blessing: InputArtifact[ModelBlessing] = None,
) -> None:
    """Writes SavedModel + pruned/quantised TFLite models and their scores; skips if not blessed.

    Args:
        model: the Trainer's model (a tf_keras SavedModel from `signatures.export`).
        examples: Transform's transformed examples (train and eval splits).
        transform_graph: Transform's output, for the transformed feature spec.
        optimized_model: the SavedModel, `model.tflite`, `model_int8.tflite`, and the report.
        label_key: transformed label key.
        problem: 'classification' or 'regression'.
        import_modules: comma-separated modules to import first, so the Keras model's custom
            layers are registered (e.g. the task's trainer module).
        params: JSON of `OptimizeParams` overrides.
        blessing: the Evaluator's verdict; a model it did not bless is not optimised.
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
    serving = path_utils.serving_model_path(model.uri, path_utils.is_old_model_artifact(model))

    def split(name):
        return os.path.join(artifact_utils.get_split_uri([examples], name), "*")

    feature_spec = tft.TFTransformOutput(transform_graph.uri).transformed_feature_spec()
    report, blobs = optimize(
        serving, split("train"), split("eval"), feature_spec, label_key, problem, settings
    )
    save(serving, path_utils.serving_model_dir(optimized_model.uri), report, blobs)
    optimized_model.set_int_custom_property("optimized", 1)
    for key, value in properties(report).items():
        if isinstance(value, str):
            optimized_model.set_string_custom_property(key, value)
        elif isinstance(value, int):
            optimized_model.set_int_custom_property(key, value)
        else:
            optimized_model.set_float_custom_property(key, float(value))
