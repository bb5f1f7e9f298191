"""Review Transform: review text → token ids (tft vocabulary), price → z-score, both labels."""

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common import transforms
from trainers.common.features import xf
from trainers.multi_io.features import CLASS, MAX_TOKENS, NUMERIC, TEXT, VALUE

VOCAB_TOP_K = 20_000  # bounds the embedding table on real review text
PAD = 0  # id of "no token"; vocabulary ids start at 1


def token_ids(x, name: str, length: int) -> tf.Tensor:
    """[batch, length] int64 ids of the first `length` lower-cased words; PAD after the end.

    Ids come from a tft vocabulary named `name` over the training split, shifted by one so
    that 0 pads; words not in it share one OOV id (vocabulary size + 1).
    """
    text = tf.strings.lower(transforms.densify(x, ""))
    text = tf.strings.regex_replace(text, r"[^a-z0-9']+", " ")
    tokens = tf.strings.split(text).to_sparse()
    batch = tf.shape(text, out_type=tf.int64)[0]
    tokens = tf.sparse.slice(tokens, [0, 0], [batch, length])
    ids = tft.compute_and_apply_vocabulary(
        tokens, top_k=VOCAB_TOP_K, num_oov_buckets=1, vocab_filename=name
    )
    shifted = tf.SparseTensor(ids.indices, ids.values + 1, [batch, length])
    return tf.reshape(tf.sparse.to_dense(shifted, default_value=PAD), [-1, length])


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """Raw reviews → token ids and price z-score (+ missing flag); sentiment ids and rating."""
    outputs = transforms.tabular(inputs, CLASS, "classification", features=NUMERIC)
    outputs[xf(TEXT)] = token_ids(inputs[TEXT], TEXT, MAX_TOKENS)
    if VALUE in inputs:  # serving examples carry no labels
        outputs[xf(VALUE)] = transforms.label(inputs[VALUE], "regression")
    return outputs
