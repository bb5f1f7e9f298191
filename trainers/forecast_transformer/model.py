"""Transformer encoder over a window of values, forecasting the next one.

Each step's scaled value and its difference to the newest one are embedded, a position code
is added, and pre-LayerNorm blocks (trainers/common/attention.py, Keras' attention or the
one written from scratch) read the window; the newest step's token says how far the next
value will be from the newest (`forecast.forecast_output`).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import attention, keras_run, keras_trainer
from trainers.timeseries import forecast


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Time-series transformer hyper-parameters."""

    batch_size: int = 64
    """Windows per training batch."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    dim: int = 32
    """Token width."""
    heads: int = 2
    """Attention heads per block."""
    blocks: int = 2
    """Transformer blocks."""
    dropout: float = 0.1
    """Dropout in attention and the blocks' MLPs."""
    attention: str = "keras"
    """keras (tf.keras MultiHeadAttention) or scratch (trainers/common/attention.SelfAttention)."""
    learned_positions: bool = True
    """Learned position embeddings; False: fixed sinusoids."""
    highway: bool = True
    """Add a linear term of the window to the forecast (an autoregressive highway)."""
    name: str = "forecast_transformer"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown attention before any work is done."""
        super().__post_init__()
        attention.check(self.attention)


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Window → [value, value − newest] tokens + positions → blocks → newest token → forecast."""
    inputs, sequence, last = forecast.window_inputs(ctx)
    length = int(sequence.shape[1])
    relative = tf.keras.layers.Lambda(lambda s: s - s[:, -1:], name="relative")(sequence)
    x = tf.keras.layers.Concatenate(name="steps")([sequence, relative])
    x = tf.keras.layers.Dense(int(hp.dim), name="embed")(x)
    x = attention.PositionEmbedding(length, learned=hp.learned_positions, name="positions")(x)
    x = attention.encoder(x, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention)
    newest = tf.keras.layers.Lambda(lambda t: t[:, -1], name="newest")(x)
    out = forecast.forecast_output(ctx, newest, last, sequence if hp.highway else None)
    model = tf.keras.Model(inputs, out, name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth, dropout and the learning rate."""
    return {
        "dim": kt_hp.Choice("dim", [16, 32, 64]),
        "blocks": kt_hp.Choice("blocks", [1, 2, 3]),
        "dropout": kt_hp.Choice("dropout", [0.0, 0.1, 0.2]),
        "learning_rate": kt_hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the time-series transformer."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the transformer's size, dropout and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
