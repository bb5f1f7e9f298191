"""Vision Transformer: patches → linear tokens + a class token + positions → blocks → class.

keras-io's "Image classification with Vision Transformer", sized for 28×28 grey images on a
CPU: 4×4 patches (a 7×7 grid of 49 tokens), the blocks of trainers/common/attention.py, the
class token's output classified.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import attention, images, keras_run, keras_trainer


@tf.keras.utils.register_keras_serializable(package="kfx")
class Patches(tf.keras.layers.Layer):
    """Images [B, H, W, C] → non-overlapping patches [B, (H/p)·(W/p), p·p·C], row by row."""

    def __init__(self, size: int, **kwargs):
        """`size`: the patch's side in pixels."""
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, images_):
        """Cuts each image into its patches."""
        p = self.size
        found = tf.image.extract_patches(
            images_, [1, p, p, 1], [1, p, p, 1], [1, 1, 1, 1], padding="VALID"
        )
        return tf.reshape(found, [tf.shape(found)[0], -1, found.shape[-1]])

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "size": self.size}


@tf.keras.utils.register_keras_serializable(package="kfx")
class ClassToken(tf.keras.layers.Layer):
    """Prepends one learned token to each sequence: [B, T, dim] → [B, T + 1, dim]."""

    def build(self, input_shape):
        """One `dim`-wide token."""
        self.token = self.add_weight(
            name="token", shape=(1, 1, int(input_shape[-1])), initializer="zeros"
        )
        super().build(input_shape)

    def call(self, tokens):
        """The class token first, then the patches."""
        batch = tf.shape(tokens)[0]
        first = tf.cast(tf.tile(self.token, [batch, 1, 1]), tokens.dtype)
        return tf.concat([first, tokens], axis=1)


@dataclasses.dataclass(frozen=True)
class HParams(images.ImageParams):
    """ViT hyper-parameters."""

    batch_size: int = 128
    """Images per training batch."""
    learning_rate: float = 2e-3
    """AdamW's peak learning rate."""
    patch: int = 4
    """Patch side in pixels (it must divide the image's side)."""
    dim: int = 64
    """Token width."""
    heads: int = 4
    """Attention heads per block."""
    blocks: int = 4
    """Transformer blocks."""
    dropout: float = 0.1
    """Dropout in the blocks and before the classifier."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay."""
    attention: str = "keras"
    """keras (tf.keras MultiHeadAttention) or scratch (trainers/common/attention.SelfAttention)."""
    name: str = "vit"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown attention before any work is done."""
        super().__post_init__()
        attention.check(self.attention)


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Image → augmentation → patches → tokens + class token + positions → blocks → softmax."""
    inputs, image = images.image_input(ctx.features)
    side = int(image.shape[1])
    if side % int(hp.patch):
        raise ValueError(f"patch {hp.patch}: must divide the image side {side}")
    x = images.augment(image, hp)
    x = Patches(hp.patch, name="patches")(x)
    x = tf.keras.layers.Dense(int(hp.dim), name="patch_embedding")(x)
    x = ClassToken(name="class_token")(x)
    x = attention.PositionEmbedding((side // int(hp.patch)) ** 2 + 1, name="positions")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    x = attention.encoder(x, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention)
    x = tf.keras.layers.Lambda(lambda t: t[:, 0], name="class_output")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    head = tf.keras.Sequential(keras_trainer.output_layer(ctx), name="classifier")
    model = tf.keras.Model(inputs, head(x), name=hp.name)
    loss = tf.keras.losses.SparseCategoricalCrossentropy()
    accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    adamw = lambda rate: tf.keras.optimizers.AdamW(rate, weight_decay=hp.weight_decay)  # noqa: E731
    model.compile(
        optimizer=keras_trainer.optimizer(hp, ctx, model, make=adamw), loss=loss, metrics=[accuracy]
    )
    return model


def search_space(kt_hp) -> dict:
    """What `--tune` searches: depth, width, dropout and learning rate."""
    return {
        "blocks": kt_hp.Choice("blocks", [2, 4, 6]),
        "dim": kt_hp.Choice("dim", [32, 64, 96]),
        "dropout": kt_hp.Choice("dropout", [0.0, 0.1, 0.2]),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 2e-3, 4e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the Vision Transformer."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the Vision Transformer's size and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
