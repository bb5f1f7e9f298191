"""ResNet-like CNN: a conv stem, stages of residual blocks, global average pooling."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import images, keras_run, keras_trainer


@dataclasses.dataclass(frozen=True)
class HParams(images.ImageParams):
    """ResNet-like CNN hyper-parameters (defaults sized for 8x8 digits; tasks set their own)."""

    filters: tuple = (32, 64)
    """Filters of each stage; every stage after the first halves the image (8x8 → 4x4)."""
    blocks_per_stage: int = 2
    """Residual blocks per stage."""
    stem_stride: int = 1
    """Stride of the stem convolution: 2 halves large images (28x28) before the stages."""
    dropout: float = 0.2
    """Dropout rate before the output layer."""
    name: str = "cnn_resnet"
    """Model name."""


def _conv_bn(x, filters: int, kernel: int, stride: int, name: str):
    x = tf.keras.layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    return tf.keras.layers.BatchNormalization(name=f"{name}_bn")(x)


def residual_block(x, filters: int, stride: int, name: str):
    """relu(F(x) + shortcut(x)): two 3x3 conv-BN, and a 1x1 projection when the shape changes."""
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, stride, f"{name}_proj")
    y = _conv_bn(x, filters, 3, stride, f"{name}_a")
    y = tf.keras.layers.ReLU(name=f"{name}_a_relu")(y)
    y = _conv_bn(y, filters, 3, 1, f"{name}_b")
    y = tf.keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return tf.keras.layers.ReLU(name=f"{name}_out")(y)


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Image → augmentation → conv stem → residual stages → global average pool → softmax."""
    inputs, image = images.image_input(ctx.features)
    x = images.augment(image, hp)
    x = tf.keras.layers.ReLU(name="stem_relu")(
        _conv_bn(x, hp.filters[0], 3, hp.stem_stride, "stem")
    )
    for stage, filters in enumerate(hp.filters):
        for block in range(hp.blocks_per_stage):
            stride = 2 if stage > 0 and block == 0 else 1
            x = residual_block(x, filters, stride, f"stage{stage}_block{block}")
    x = tf.keras.layers.GlobalAveragePooling2D(name="pool")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    for layer in keras_trainer.output_layer(ctx):
        x = layer(x)
    model = tf.keras.Model(inputs, x, name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: blocks per stage, dropout and learning rate."""
    return {
        "blocks_per_stage": kt_hp.Int("blocks_per_stage", 1, 3),
        "dropout": kt_hp.Choice("dropout", [0.1, 0.2, 0.4]),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 2e-3, 5e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the ResNet-like CNN."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the ResNet-like CNN's depth, dropout and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
