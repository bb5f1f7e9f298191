"""VGG-like CNN: blocks of 3x3 convolutions then max-pooling, a dense head, augmentation."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import images, keras_run, keras_trainer


@dataclasses.dataclass(frozen=True)
class HParams(images.ImageParams):
    """VGG-like CNN hyper-parameters (defaults sized for 8x8 digits; tasks set their own)."""

    filters: tuple = (32, 64)
    """Filters of each block's convolutions; each block halves the image (28x28 → 14x14 → 7x7)."""
    convs_per_block: int = 2
    """3x3 convolutions (ReLU, He init) before each max-pooling."""
    dense: int = 128
    """Width of the dense layer of the head."""
    dropout: float = 0.3
    """Dropout rate before the output layer."""
    name: str = "cnn_vgg"
    """Model name."""


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Image → augmentation → [conv 3x3]*n + max-pool per block → dense → softmax."""
    inputs, image = images.image_input(ctx.features)
    x = images.augment(image, hp)
    for block, filters in enumerate(hp.filters):
        for conv in range(hp.convs_per_block):
            x = tf.keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                activation="relu",
                kernel_initializer="he_normal",
                name=f"block{block}_conv{conv}",
            )(x)
        x = tf.keras.layers.MaxPooling2D(name=f"block{block}_pool")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dense(hp.dense, activation="relu", kernel_initializer="he_normal")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    for layer in keras_trainer.output_layer(ctx):
        x = layer(x)
    model = tf.keras.Model(inputs, x, name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: head width, dropout and learning rate."""
    return {
        "dense": kt_hp.Choice("dense", [64, 128, 256]),
        "dropout": kt_hp.Choice("dropout", [0.2, 0.3, 0.5]),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 2e-3, 5e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the VGG-like CNN."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the VGG-like CNN's head and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
