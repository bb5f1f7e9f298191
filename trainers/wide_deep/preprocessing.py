"""Car Transform: z-scored measurements, origin ids, and the origin × cylinders cross."""

import tensorflow as tf

from trainers.common import transforms
from trainers.common.features import xf
from trainers.wide_deep.features import CATEGORICAL, CROSS, CROSS_NAME, LABEL, NUMERIC


def _as_text(x) -> tf.Tensor:
    """A [batch] string tensor of any raw column; missing values become `MISSING`."""
    if x.dtype == tf.string:
        return transforms.densify(x, transforms.MISSING)
    return tf.strings.as_string(transforms.densify(x, -1))


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """Raw car features → deep inputs (z-scores), wide inputs (ids) and the fuel economy."""
    outputs = transforms.tabular(inputs, LABEL, "regression", features=NUMERIC + CATEGORICAL)
    cross = tf.strings.join([_as_text(inputs[c]) for c in CROSS], separator="x")
    outputs[xf(CROSS_NAME)] = transforms.vocabulary_ids(cross, CROSS_NAME)
    return outputs
