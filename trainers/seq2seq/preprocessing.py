"""Number Transform: words → ids of a training-split vocabulary; digits → target ids."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common.features import xf
from trainers.seq2seq.features import (
    DIGITS,
    EOS,
    LABEL,
    PAD,
    SOURCE_LENGTH,
    TARGET_LENGTH,
    WORDS,
)


def padded(ids: tf.SparseTensor, length: int, fill: int) -> tf.Tensor:
    """A ragged row of ids as dense [batch, length] int64, `fill` after its end."""
    batch = tf.shape(ids, out_type=tf.int64)[0]
    ids = tf.sparse.reset_shape(ids, tf.stack([batch, tf.constant(length, tf.int64)]))
    return tf.reshape(tf.sparse.to_dense(ids, default_value=fill), [-1, length])


def target_ids(digits: tf.Tensor) -> tf.Tensor:
    """'42' → [4, 2, EOS, EOS, ...] (int64 [batch, TARGET_LENGTH]); EOS fills every step after.

    The characters' ids are fixed (their place in DIGITS), so no analyzer is needed; a
    character that is not a digit maps to EOS.
    """
    chars = tf.strings.unicode_split(tf.reshape(digits, [-1]), "UTF-8")[:, : TARGET_LENGTH - 1]
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(list(DIGITS), tf.range(len(DIGITS), dtype=tf.int64)),
        default_value=EOS,
    )
    return padded(tf.ragged.map_flat_values(table.lookup, chars).to_sparse(), TARGET_LENGTH, EOS)


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """`words_xf`: int ids [batch, SOURCE_LENGTH] (PAD after the end); `digits_xf` target ids.

    The word vocabulary is an analyzer, computed on the train split only.
    """
    words = tf.strings.split(tf.strings.lower(tf.reshape(inputs[WORDS], [-1])))
    ids = tft.compute_and_apply_vocabulary(
        words[:, :SOURCE_LENGTH].to_sparse(), num_oov_buckets=1, vocab_filename=WORDS
    )
    outputs = {xf(WORDS): padded(ids, SOURCE_LENGTH, PAD)}
    if LABEL in inputs:
        outputs[xf(LABEL)] = target_ids(inputs[LABEL])
    return outputs
