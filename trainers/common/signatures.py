"""Export: a SavedModel whose signatures take raw tf.Examples and apply the Transform graph.

`serving_default` is what TFMA (with `signature_name='serving_default'`), TF Serving and
`kfx predict` call; `transform_features` lets TFMA read the transformed label. Both parse the
raw features by name, so what serving sees is what training saw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tensorflow as tf

from trainers import manifest
from trainers.common.features import LABEL_VOCAB

_DTYPES = {tf.int64: "INT", tf.float32: "FLOAT", tf.string: "BYTES"}


def _outputs(raw, classes):
    """Signature outputs: class probabilities + label + score, or the regressed value."""
    raw = tf.cast(raw, tf.float32)  # float32 whatever a model's precision policy computed in
    if classes is None:
        value = tf.reshape(raw, [-1])
        return {"prediction": value, "score": value}
    best = tf.argmax(raw, axis=-1)
    return {
        "probabilities": raw,
        "prediction": tf.gather(classes, best),
        "score": tf.reduce_max(raw, axis=-1),
    }


# The signature output TFMA scores (pipelines/evaluation.py): class probabilities, or the value.
# A sequence model answers the decoded token ids ("ids", scored) and their string.
PREDICTION_KEYS = {"classification": "probabilities", "regression": "prediction", "sequence": "ids"}
# What `_outputs` (or a sequence model's decoder) answers for each row (the serving check
# holds every export to it).
ANSWER_KEYS = {
    "classification": ("probabilities", "prediction", "score"),
    "regression": ("prediction", "score"),
    "sequence": ("ids", "prediction", "score"),
}


def output_key(output: str, key: str) -> str:
    """Serving key of `key` ('prediction', 'score', 'probabilities') of one model output."""
    return f"{output}_{key}"


def _multi_outputs(raw: dict, outputs: Sequence, classes) -> dict:
    """Each output's signature outputs, keyed `output_key(output name, key)`.

    The output's own name holds what TFMA scores (class probabilities, or the value): for
    a model's predictions TFMA looks metrics up by output name (ModelSpec.prediction_keys
    only applies to predictions stored in the examples).
    """
    found = {}
    for out in outputs:
        kind = classes if out.problem == "classification" else None
        for key, value in _outputs(raw[out.name], kind).items():
            found[output_key(out.name, key)] = value
        found[out.name] = found[output_key(out.name, PREDICTION_KEYS[out.problem])]
    return found


def export(
    model,
    serving_dir: str,
    tf_transform_output,
    label: str,
    problem: str,
    input_keys: Sequence[str] | None = None,
    outputs: Sequence = (),
    respond: Callable[[tf.keras.Model, dict], dict] | None = None,
) -> None:
    """Saves `model` with the raw-example signatures and a manifest of its raw inputs.

    Args:
        model: the trained Keras model.
        serving_dir: `fn_args.serving_model_dir`.
        tf_transform_output: the Transform output the model was trained on.
        label: raw label column (not a serving input).
        problem: 'classification' or 'regression'.
        input_keys: the transformed features the model takes; None reads them from a
            Functional model's inputs (a subclassed model has none: pass them).
        outputs: a multi-output model's outputs (`name`, `label`, `problem` attributes), main
            first; each gets `<name>_prediction`, `<name>_score` (and `<name>_probabilities`)
            serving outputs, and `<name>` for TFMA. Empty: a single-output model.
        respond: `respond(model, transformed inputs) -> serving outputs` for a model that is
            not called once per answer (a decoder's loop); None: one call, `_outputs`.

    """
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    labels = {label} | {out.label for out in outputs}
    serving_spec = {k: v for k, v in raw_spec.items() if k not in labels}
    if input_keys is not None:
        keys = list(input_keys)
    else:
        keys = sorted(model.input.keys()) if isinstance(model.input, dict) else model.input_names
    classes = None
    if "classification" in {problem} | {out.problem for out in outputs}:
        classes = tf.constant(tf_transform_output.vocabulary_by_name(LABEL_VOCAB))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        if respond is not None:
            return respond(model, {k: transformed[k] for k in keys})
        raw = model({k: transformed[k] for k in keys}, training=False)
        if outputs:
            return _multi_outputs(raw, outputs, classes)
        return _outputs(raw, classes)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, raw_spec))

    model.save(
        serving_dir,
        save_format="tf",
        signatures={"serving_default": serve, "transform_features": transform_features},
    )
    shapes = {
        k: tuple(v.shape) for k, v in sorted(serving_spec.items()) if getattr(v, "shape", None)
    }
    manifest.write(
        serving_dir,
        manifest.Manifest(
            kind=manifest.EXAMPLES,
            label=label,
            problem=problem,
            features={k: _DTYPES[v.dtype] for k, v in sorted(serving_spec.items())},
            classes=None if classes is None else [c.decode() for c in classes.numpy()],
            shapes=shapes,  # fixed-shape features (images): predict reads several values
            outputs=[
                manifest.OutputInfo(out.name, out.label, out.problem) for out in outputs
            ],  # predict writes <name>_prediction and <name>_score for each
        ),
    )
