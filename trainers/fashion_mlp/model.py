"""The course's Sequential classifier: Flatten → Dense 300 → Dense 100 → softmax.

Options the chapter walks through: dropout, batch normalisation and L2 regularisation of
each hidden layer, and the activation.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import images, keras_run, keras_trainer


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Sequential MLP hyper-parameters (the course's 300-100 network)."""

    batch_size: int = 128
    """Examples per training batch."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    hidden: tuple = (300, 100)
    """Width of each hidden Dense layer, in order."""
    activation: str = "relu"
    """Activation of the hidden layers (relu, elu, selu, ...)."""
    dropout: float = 0.2
    """Dropout rate after each hidden layer (0: none)."""
    batch_norm: bool = False
    """BatchNormalization after each hidden Dense (before its activation)."""
    l2: float = 0.0
    """L2 penalty on the hidden kernels."""
    name: str = "fashion_mlp"
    """Model name."""


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Image → Flatten → [Dense (→ BN) → activation (→ dropout)] per hidden width → softmax."""
    inputs, image = images.image_input(ctx.features)
    layers = [tf.keras.layers.Flatten(name="flatten")]
    for i, units in enumerate(hp.hidden):
        layers.append(
            tf.keras.layers.Dense(
                int(units),
                use_bias=not hp.batch_norm,
                kernel_initializer="he_normal",
                kernel_regularizer=tf.keras.regularizers.l2(hp.l2) if hp.l2 else None,
                name=f"hidden{i}",
            )
        )
        if hp.batch_norm:
            layers.append(tf.keras.layers.BatchNormalization(name=f"hidden{i}_bn"))
        layers.append(tf.keras.layers.Activation(hp.activation, name=f"hidden{i}_{hp.activation}"))
        if hp.dropout:
            layers.append(tf.keras.layers.Dropout(hp.dropout, seed=hp.seed, name=f"hidden{i}_drop"))
    body = tf.keras.Sequential(layers + keras_trainer.output_layer(ctx), name="sequential")
    model = tf.keras.Model(inputs, body(image), name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: dropout, batch norm and learning rate."""
    return {
        "dropout": kt_hp.Choice("dropout", [0.0, 0.2, 0.3]),
        "batch_norm": kt_hp.Boolean("batch_norm"),
        "learning_rate": kt_hp.Choice("learning_rate", [3e-4, 1e-3, 3e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the Sequential classifier."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the Sequential classifier's regularisation and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
