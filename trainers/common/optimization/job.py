"""The whole optimisation of a trained Keras SavedModel: prune, quantise, score, measure.

`optimize` reloads the Keras model, prunes the weights of every layer tfmot can prune (fine-tuned
for a few steps on the transformed training examples with the task's loss; a subclassed model
goes on unpruned), then converts the result to TFLite twice: dynamic-range quantisation
(`TFLITE_FILE`) and full int8 calibrated on training examples (`INT8_FILE`). Each variant is
scored on the transformed test split and sized against the model's float32 weights. `save`
writes the SavedModel, unchanged, beside both flatbuffers and the report (`REPORT_FILE`);
`properties` flattens the report into scalars (the ModelOptimizer's custom properties).

The TFLite models take the *transformed* features (the Keras model's inputs): run the Transform
graph first, as the SavedModel's serving signature does.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Mapping
from typing import Any

from trainers import manifest
from trainers.common.optimization import conversion, data, pruning, scoring, sizes
from trainers.common.optimization.params import OptimizeParams

TFLITE_FILE = "model.tflite"  # dynamic-range quantised: float I/O, int8 weights
INT8_FILE = "model_int8.tflite"  # full integer: int8 weights and activations
REPORT_FILE = os.path.join(os.path.dirname(manifest.FILE), "optimization.json")  # beside kfx.json


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

    Args:
        serving_dir: a tf_keras SavedModel (from `signatures.export`); its custom layers must
            be registered (their modules imported) first.
        train_files: pattern of the transformed training examples (fine-tuning, calibration).
        eval_files: pattern of the transformed examples it is scored on (the test split).
        feature_spec: the transformed feature spec.
        label_key: transformed label key.
        problem: 'classification' or 'regression'.
        params: pruning, fine-tuning and calibration settings.

    Returns:
        The report (what `save` writes to `REPORT_FILE`) and {file name: TFLite flatbuffer}.

    Raises:
        ValueError: the model has more than one output.
    """
    import tensorflow as tf

    clock = time.monotonic()
    model = pruning.keras_core(tf.keras.models.load_model(serving_dir, compile=False))
    graph = pruning.is_graph_model(model)
    if graph and len(model.outputs) != 1:
        raise ValueError(
            f"{serving_dir}: the model has {len(model.outputs)} outputs; the ModelOptimizer "
            "fine-tunes and scores single-output models (run without --optimize)"
        )
    # A subclassed model takes what the trainers feed: every transformed feature but the label.
    names = list(model.input_names) if graph else [k for k in feature_spec if k != label_key]
    eval_data = data.transformed_dataset(eval_files, feature_spec, label_key, names, 256)
    train = data.transformed_dataset(
        train_files, feature_spec, label_key, names, params.batch_size, params.seed
    )
    labels = sum(int(y.shape[0]) for _, y in eval_data)
    floats = sizes.weights_bytes(model)
    report: dict[str, Any] = {
        "metric": scoring.metric_name(problem),
        "problem": problem,
        "eval_examples": labels,
        "params": dataclasses.asdict(params),
        "float_weights_bytes": floats,
        "seconds": {},
    }
    variants: dict[str, dict] = {
        "saved_model": {
            "bytes": sizes.dir_bytes(serving_dir),
            "weights_bytes": floats,
            "weights_gzip_bytes": sizes.weights_gzip_bytes(model),
            "value": scoring.keras_score(model, eval_data, problem),
        }
    }
    report["seconds"]["load_and_score"] = time.monotonic() - clock

    clock = time.monotonic()
    # tfmot prunes Functional and Sequential models; a subclassed one is quantised unpruned.
    stripped, layers = pruning.prune(model, train, problem, params) if graph else (model, 0)
    variants["pruned"] = {
        "layers": layers,
        "weights_bytes": sizes.weights_bytes(stripped),
        "weights_gzip_bytes": sizes.weights_gzip_bytes(stripped),
        "sparsity": sizes.sparsity(stripped),
        "value": scoring.keras_score(stripped, eval_data, problem),
    }
    report["seconds"]["prune"] = time.monotonic() - clock

    output = model.output_names[0] if graph else None
    blobs: dict[str, bytes] = {}
    calibration = data.representative_dataset(train, params.calibration_examples)
    for variant, file, rep in (
        ("dynamic_range", TFLITE_FILE, None),
        ("int8", INT8_FILE, calibration),
    ):
        clock = time.monotonic()
        blob = blobs[file] = conversion.to_tflite(stripped, rep)
        variants[variant] = {
            "file": file,
            "float_ops": ",".join(conversion.float_ops(blob)),
            "bytes": len(blob),
            "gzip_bytes": sizes.gzip_bytes(blob),
            "ratio": floats / len(blob),
            "value": scoring.tflite_score(blob, eval_data, problem, output),
        }
        report["seconds"][variant] = time.monotonic() - clock
    base = variants["saved_model"]["value"]
    for values in variants.values():
        values["change"] = values["value"] - base
    report["variants"] = variants
    return report, blobs


def save(serving_dir: str, dest: str, report: Mapping[str, Any], blobs: Mapping[str, bytes]):
    """Writes the SavedModel (copied), the TFLite files and the report into `dest`.

    Args:
        serving_dir: the SavedModel `optimize` read (local or remote).
        dest: the output directory (local or remote); replaced if it exists.
        report: `optimize`'s report, written as JSON to `REPORT_FILE`.
        blobs: {file name: TFLite flatbuffer}, written at the top of `dest`.
    """
    import tensorflow as tf

    copy_tree(serving_dir, dest)
    for name, blob in blobs.items():
        with tf.io.gfile.GFile(os.path.join(dest, name), "wb") as handle:
            handle.write(blob)
    tf.io.gfile.makedirs(os.path.dirname(os.path.join(dest, REPORT_FILE)))
    with tf.io.gfile.GFile(os.path.join(dest, REPORT_FILE), "w") as handle:
        handle.write(json.dumps(report, indent=2))


def copy_tree(src: str, dest: str) -> None:
    """Copies directory `src` to `dest` (replaced if it exists), empty folders included.

    Both may be remote: everything goes through tf.io.gfile.
    """
    import tensorflow as tf

    src, dest = src.rstrip("/"), dest.rstrip("/")
    if tf.io.gfile.exists(dest):
        tf.io.gfile.rmtree(dest)
    tf.io.gfile.makedirs(dest)
    for root, folders, files in tf.io.gfile.walk(src):
        relative = root.rstrip("/")[len(src) :].strip("/")
        target = os.path.join(dest, relative) if relative else dest
        for folder in folders:  # object stores list folders with a trailing slash
            tf.io.gfile.makedirs(os.path.join(target, folder.rstrip("/")))
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), os.path.join(target, name), overwrite=True)


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
