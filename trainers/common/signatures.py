"""Export: a SavedModel whose signatures take raw tf.Examples and apply the Transform graph.

`serving_default` is what TFMA (with `signature_name='serving_default'`), TF Serving and
`kfx predict` call; `transform_features` lets TFMA read the transformed label. Both parse the
raw features by name, so what serving sees is what training saw.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import tensorflow as tf

from trainers.common.features import LABEL_VOCAB

MANIFEST = os.path.join("assets.extra", "kfx.json")  # what `kfx predict` needs to build inputs
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


def export(
    model,
    serving_dir: str,
    tf_transform_output,
    label: str,
    problem: str,
    input_keys: Sequence[str] | None = None,
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

    """
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {k: v for k, v in raw_spec.items() if k != label}
    if input_keys is not None:
        keys = list(input_keys)
    else:
        keys = sorted(model.input.keys()) if isinstance(model.input, dict) else model.input_names
    classes = None
    if problem == "classification":
        classes = tf.constant(tf_transform_output.vocabulary_by_name(LABEL_VOCAB))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        return _outputs(model({k: transformed[k] for k in keys}, training=False), classes)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, raw_spec))

    model.save(
        serving_dir,
        save_format="tf",
        signatures={"serving_default": serve, "transform_features": transform_features},
    )
    manifest = {
        "label": label,
        "problem": problem,
        "features": {k: _DTYPES[v.dtype] for k, v in sorted(serving_spec.items())},
        "classes": None if classes is None else [c.decode() for c in classes.numpy()],
    }
    shapes = {
        k: list(v.shape) for k, v in sorted(serving_spec.items()) if getattr(v, "shape", None)
    }
    if shapes:  # fixed-shape features (images): `kfx predict` reads them from several values
        manifest["shapes"] = shapes
    path = os.path.join(serving_dir, MANIFEST)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(manifest, indent=2))
