"""A transformer encoder over review tokens: token + position embeddings, blocks, pooling.

The blocks are trainers/common/attention's, on Keras' `MultiHeadAttention` or on the
attention written from scratch (`--set attention=scratch`); padding never gets attention.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import attention, keras_run, keras_trainer
from trainers.common.features import xf
from trainers.text_transformer.features import REVIEW


@tf.keras.utils.register_keras_serializable(package="kfx")
class MaskedMean(tf.keras.layers.Layer):
    """Mean of the real tokens' vectors: [B, T, dim] and keep [B, T] → [B, dim]."""

    def call(self, vectors, keep):
        """An all-padding review (empty text) averages to zeros."""
        weights = tf.cast(keep, vectors.dtype)[:, :, tf.newaxis]
        return tf.reduce_sum(vectors * weights, 1) / tf.maximum(tf.reduce_sum(weights, 1), 1.0)


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Text transformer hyper-parameters."""

    batch_size: int = 32
    """Reviews per training batch."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    dim: int = 64
    """Token width."""
    heads: int = 2
    """Attention heads per block."""
    blocks: int = 1
    """Transformer encoder blocks."""
    dropout: float = 0.2
    """Dropout in the blocks and before the classifier."""
    attention: str = "keras"
    """keras (tf.keras MultiHeadAttention) or scratch (trainers/common/attention.SelfAttention)."""
    name: str = "text_transformer"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown attention before any work is done."""
        super().__post_init__()
        attention.check(self.attention)


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Ids → token + position embeddings → blocks (padding masked) → mean → softmax."""
    key = xf(REVIEW)
    inputs = ctx.features.keras_inputs()
    length = int(ctx.features.shapes[key][0])
    vectors, keep = attention.TokenEmbedding(ctx.features.categorical[key], hp.dim, name="tokens")(
        inputs[key]
    )
    x = attention.PositionEmbedding(length, name="positions")(vectors)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    mask = tf.keras.layers.Lambda(attention.key_mask, name="padding_mask")(keep)
    x = attention.encoder(x, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention, mask)
    x = MaskedMean(name="mean")(x, keep)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    head = tf.keras.Sequential(keras_trainer.output_layer(ctx), name="classifier")
    model = tf.keras.Model(inputs, head(x), name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth, dropout and the learning rate."""
    return {
        "dim": kt_hp.Choice("dim", [32, 64, 128]),
        "blocks": kt_hp.Choice("blocks", [1, 2]),
        "dropout": kt_hp.Choice("dropout", [0.1, 0.2, 0.3]),
        "learning_rate": kt_hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the review classifier."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the transformer's size, dropout and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
