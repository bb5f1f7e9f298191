"""Naming conventions between preprocessing_fn, models and serving, and the model's inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

LABEL_VOCAB = "__label__"  # vocabulary file of class labels; cannot clash with a column name


def xf(name: str) -> str:
    """Transformed feature key of raw column `name`."""
    return f"{name}_xf"


def na(name: str) -> str:
    """Key of the 0/1 'was missing' flag of numeric column `name`."""
    return f"{name}_na"


@dataclasses.dataclass(frozen=True)
class InputFeatures:
    """The transformed features a model takes, read back from the Transform output."""

    numeric: tuple[str, ...]
    """Float inputs (z-scores and missing flags), fed as they are."""
    categorical: Mapping[str, int]
    """Integer id inputs and their one-hot depth (vocabulary size + OOV bucket)."""
    shapes: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    """Per-example shape of non-scalar inputs (images: height, width, channels)."""

    @property
    def keys(self) -> tuple[str, ...]:
        """All input keys, in a stable order."""
        return self.numeric + tuple(self.categorical)

    @classmethod
    def from_transform_output(cls, tf_transform_output, label: str) -> InputFeatures:
        """Every transformed feature except the label, typed by its dtype."""
        import tensorflow as tf

        numeric, categorical, shapes = [], {}, {}
        for key, spec in sorted(tf_transform_output.transformed_feature_spec().items()):
            if key == xf(label):
                continue
            if getattr(spec, "shape", None):
                shapes[key] = tuple(int(d) for d in spec.shape)
            if spec.dtype == tf.int64:
                vocab = key[: -len("_xf")]
                categorical[key] = tf_transform_output.vocabulary_size_by_name(vocab) + 1
            else:
                numeric.append(key)
        return cls(tuple(numeric), categorical, shapes)

    def keras_inputs(self) -> dict:
        """One named `tf.keras.Input` per feature, with its dtype and per-example shape."""
        import tensorflow as tf

        inputs = {k: tf.keras.Input(self.shapes.get(k, ()), name=k) for k in self.numeric}
        for key in self.categorical:
            inputs[key] = tf.keras.Input(self.shapes.get(key, ()), name=key, dtype=tf.int64)
        return inputs
