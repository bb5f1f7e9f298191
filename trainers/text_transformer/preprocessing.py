"""Review Transform: tokens → ids of a vocabulary of the training split, padded to a length."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common import transforms
from trainers.common.features import xf
from trainers.text_transformer.features import LABEL, LENGTH, PAD, REVIEW, VOCABULARY


def tokens(text: tf.Tensor) -> tf.RaggedTensor:
    """Lower-cased words and numbers of each text (HTML line breaks and punctuation dropped)."""
    text = tf.strings.lower(tf.reshape(text, [-1]))
    text = tf.strings.regex_replace(text, r"<br\s*/?>", " ")
    text = tf.strings.regex_replace(text, r"[^a-z0-9']+", " ")
    return tf.strings.split(text)


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """`review_xf`: int ids [batch, LENGTH] (PAD after the end), and the class id `score_xf`.

    The vocabulary is an analyzer, so it is computed on the train split only: eval and test
    words the training reviews never used are out of vocabulary, as in serving.
    """
    words = tokens(inputs[REVIEW])[:, :LENGTH].to_sparse()
    ids = tft.compute_and_apply_vocabulary(
        words, top_k=VOCABULARY, num_oov_buckets=1, vocab_filename=REVIEW
    )
    batch = tf.shape(ids, out_type=tf.int64)[0]
    ids = tf.sparse.reset_shape(ids, tf.stack([batch, tf.constant(LENGTH, tf.int64)]))
    dense = tf.sparse.to_dense(ids, default_value=PAD)
    outputs = {xf(REVIEW): tf.reshape(dense, [-1, LENGTH])}  # a static shape for the schema
    if LABEL in inputs:
        outputs[xf(LABEL)] = transforms.label(inputs[LABEL], "classification")
    return outputs
