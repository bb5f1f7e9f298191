"""Building blocks of preprocessing_fn: missing values, z-scores, vocabularies, labels."""

from __future__ import annotations

from collections.abc import Iterable

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common.features import LABEL_VOCAB, na, xf

# tft drops "" from vocabularies, so an empty default would fold missing into the OOV bucket.
MISSING = "<missing>"


def _as_sparse(x: tf.Tensor | tf.SparseTensor) -> tf.SparseTensor:
    """Any [batch] / [batch, 1] / VarLen input as a [batch, 1] SparseTensor of present values."""
    if isinstance(x, tf.SparseTensor):
        return tf.SparseTensor(x.indices, x.values, [x.dense_shape[0], 1])
    dense = tf.reshape(x, [-1, 1])
    indices = tf.where(tf.ones_like(dense, dtype=tf.bool))
    return tf.SparseTensor(indices, tf.reshape(dense, [-1]), tf.shape(dense, out_type=tf.int64))


def densify(x: tf.Tensor | tf.SparseTensor, default) -> tf.Tensor:
    """A [batch] dense tensor; rows without a value get `default`."""
    sparse = _as_sparse(x)
    return tf.reshape(tf.sparse.to_dense(sparse, default_value=default), [-1])


def standardize(x: tf.Tensor | tf.SparseTensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Z-score with missing (or NaN) values imputed by the mean; also a 0/1 missing flag."""
    sparse = _as_sparse(x)
    sparse = tf.SparseTensor(sparse.indices, tf.cast(sparse.values, tf.float32), sparse.dense_shape)
    sparse = tf.sparse.retain(sparse, tf.logical_not(tf.math.is_nan(sparse.values)))
    mean = tft.mean(sparse.values)
    std = tf.sqrt(tft.var(sparse.values))
    std = tf.where(std > 0.0, std, tf.ones_like(std))
    filled = tf.reshape(tf.sparse.to_dense(sparse, default_value=mean), [-1])
    present = tf.sparse.to_dense(
        tf.SparseTensor(sparse.indices, tf.ones_like(sparse.values), sparse.dense_shape)
    )
    return (filled - mean) / std, 1.0 - tf.reshape(present, [-1])


def vocabulary_ids(x: tf.Tensor | tf.SparseTensor, name: str) -> tf.Tensor:
    """Integer ids from a vocabulary named `name`; missing is its own token, unseen goes to OOV."""
    strings = densify(_to_string(x), default=MISSING)
    return tft.compute_and_apply_vocabulary(strings, vocab_filename=name, num_oov_buckets=1)


def _to_string(x):
    if x.dtype == tf.string:
        return x
    if isinstance(x, tf.SparseTensor):
        return tf.SparseTensor(x.indices, tf.strings.as_string(x.values), x.dense_shape)
    return tf.strings.as_string(x)


def label(x: tf.Tensor | tf.SparseTensor, problem: str) -> tf.Tensor:
    """Class ids (vocabulary `LABEL_VOCAB`) for classification, float values for regression."""
    if problem == "classification":
        return tft.compute_and_apply_vocabulary(
            densify(_to_string(x), default=""), vocab_filename=LABEL_VOCAB
        )
    sparse = _as_sparse(x)
    values = tf.cast(sparse.values, tf.float32)
    return densify(tf.SparseTensor(sparse.indices, values, sparse.dense_shape), 0.0)


def tabular(
    inputs: dict, label_key: str, problem: str, features: Iterable[str] | None = None
) -> dict:
    """The standard tabular transform: strings → vocabulary ids, numbers → z-score + flag.

    Args:
        inputs: raw features as given to preprocessing_fn.
        label_key: raw label column.
        problem: 'classification' or 'regression'.
        features: the columns to use; None uses every column but the label.

    Returns:
        Transformed features keyed by `xf(name)` / `na(name)`, and `xf(label_key)`.

    """
    wanted = [k for k in inputs if k != label_key] if features is None else list(features)
    missing = [k for k in wanted if k not in inputs]
    if missing:
        raise ValueError(f"preprocessing_fn: columns {missing} are not in the schema")
    outputs = {}
    for name in wanted:
        value = inputs[name]
        if value.dtype == tf.string:
            outputs[xf(name)] = vocabulary_ids(value, name)
        else:
            outputs[xf(name)], outputs[na(name)] = standardize(value)
    if label_key in inputs:
        outputs[xf(label_key)] = label(inputs[label_key], problem)
    return outputs
