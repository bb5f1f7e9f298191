"""Two inputs, two outputs (Functional API): review text + price → sentiment and rating.

The text branch embeds the review's token ids and averages them (padding masked); the
numeric branch reads the price's z-score and missing flag. Both meet in a shared Dense
layer that feeds a softmax over the sentiment classes and a regression head for the rating.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import keras_run, keras_trainer
from trainers.common.features import xf
from trainers.common.layers import FeatureVector
from trainers.multi_io.features import CLASS, MAX_TOKENS, TEXT, VALUE


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Two-input, two-output model hyper-parameters."""

    embedding_dim: int = 16
    """Size of each word's embedding."""
    units: int = 32
    """Width of the shared Dense layer."""
    class_weight: float = 1.0
    """Loss weight of the sentiment output (cross-entropy)."""
    value_weight: float = 1.0
    """Loss weight of the rating output (squared error in stars)."""
    use_price: bool = True
    """False: the price inputs stay but feed nothing (the text-only reference of the rating)."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    name: str = "multi_io"
    """Model name."""


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """{token ids, price} → text and numeric branches → shared layer → {sentiment, rating}.

    With `use_price=False` the numeric branch is left out: the model takes the same inputs
    but does not see the price.
    """
    text_key = xf(TEXT)
    numeric = ctx.features.numeric
    inputs = {text_key: tf.keras.Input((MAX_TOKENS,), name=text_key, dtype=tf.int64)}
    inputs |= {k: tf.keras.Input((), name=k) for k in numeric}
    # The vocabulary's size + OOV bucket, + 1 for the padding id 0.
    vocabulary = ctx.features.categorical[text_key] + 1
    words = tf.keras.layers.Embedding(
        vocabulary, hp.embedding_dim, mask_zero=True, name="embedding"
    )(inputs[text_key])
    text = tf.keras.layers.GlobalAveragePooling1D(name="mean_embedding")(words)
    if hp.use_price:
        number = FeatureVector(numeric, {}, name="numeric")(inputs)
        joined = tf.keras.layers.Concatenate(name="text_and_numeric")([text, number])
    else:  # same inputs and serving signature; the shared layer sees the text alone
        joined = text
    shared = tf.keras.layers.Dense(hp.units, activation="relu", name="shared")(joined)
    heads = {head.name: head for head in ctx.heads}
    outputs = {name: keras_trainer.head_output(heads[name], shared) for name in (CLASS, VALUE)}
    model = tf.keras.Model(inputs, outputs, name=hp.name)
    weights = {CLASS: hp.class_weight, VALUE: hp.value_weight}
    return keras_trainer.compile_model(model, ctx, hp, loss_weights=weights)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: embedding size, shared width and learning rate."""
    return {
        "embedding_dim": kt_hp.Choice("embedding_dim", [8, 16, 32]),
        "units": kt_hp.Choice("units", [16, 32, 64]),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the two-input, two-output model."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the embedding size, the shared width and the learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
