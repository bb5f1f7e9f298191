"""The course's tabular MLP: named inputs → feature vector → Sequential Dense blocks."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import keras_trainer
from trainers.common.layers import FeatureVector


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """MLP hyper-parameters."""

    units: int = 16
    """Width of each hidden layer."""
    layers: int = 2
    """Number of hidden Dense-BatchNorm-ReLU-Dropout blocks."""
    dropout: float = 0.1
    """Dropout rate after each hidden block."""
    l2: float = 1e-4
    """L2 penalty on hidden kernels."""
    l1: float = 0.0
    """L1 penalty on hidden kernels."""
    name: str = "mlp"
    """Model name (shown in TensorBoard's graph)."""


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Named inputs → feature vector → Sequential MLP (He init, BN, ReLU, dropout, L1/L2).

    Non-scalar inputs (images) are flattened into the feature vector.
    """
    inputs = ctx.features.keras_inputs()
    blocks = []
    for _ in range(hp.layers):
        blocks += [
            tf.keras.layers.Dense(
                hp.units,
                use_bias=False,
                kernel_initializer="he_normal",
                kernel_regularizer=tf.keras.regularizers.l1_l2(hp.l1, hp.l2),
            ),
            tf.keras.layers.BatchNormalization(),
            tf.keras.layers.Activation("relu"),
            tf.keras.layers.Dropout(hp.dropout),
        ]
    mlp = tf.keras.Sequential(blocks + keras_trainer.output_layer(ctx), name="blocks")
    features = FeatureVector(ctx.features.numeric, ctx.features.categorical, name="features")
    model = tf.keras.Model(inputs, mlp(features(inputs)), name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth, learning rate and its schedule."""
    return {
        "units": kt_hp.Choice("units", [8, 16, 32]),
        "layers": kt_hp.Int("layers", 1, 3),
        "learning_rate": kt_hp.Choice("learning_rate", [3e-3, 1e-2, 3e-2]),
        "lr_schedule": kt_hp.Choice("lr_schedule", ["constant", "exponential", "one_cycle"]),
    }
