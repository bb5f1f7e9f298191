"""Subclassed digits classifier trained by a custom GradientTape loop inside run_fn (no `fit`)."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import distribute, images, keras_trainer, signatures
from trainers.subclassed import loop
from trainers.subclassed.layers import DigitsClassifier


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Subclassed MLP hyper-parameters, sized for 8x8 digits."""

    batch_size: int = 64
    """Examples per training batch."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    units: int = 128
    """Width of each DenseBlock."""
    layers: int = 2
    """Number of DenseBlocks."""
    dropout: float = 0.2
    """Dropout rate inside each DenseBlock."""
    l2: float = 1e-4
    """L2 penalty on the DenseBlocks' kernels."""
    name: str = "subclassed"
    """Model name."""


def build(ctx: keras_trainer.Context, hp: HParams) -> DigitsClassifier:
    """The subclassed model with its weights created (called once on a zero image)."""
    key = images.image_key(ctx.features)
    model = DigitsClassifier(key, ctx.n_classes, hp)
    model({key: tf.zeros([1, *ctx.features.shapes[key]])}, training=False)
    return model


def _compiled(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    return keras_trainer.compile_model(build(ctx, hp), ctx, hp)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains the subclassed model with the custom loop and exports it like every task."""
    hp, ctx, tf_transform_output, train, val, schedule = keras_trainer.prepare(fn_args, HParams())
    with distribute.strategy().scope():
        model = build(ctx, hp)
        optimizer = keras_trainer.optimizer(hp, ctx, model)
    if fn_args.base_model:
        keras_trainer.warm_start(model, fn_args.base_model)
    loop.train(
        model,
        train,
        val,
        optimizer,
        patience=hp.patience,
        hooks=[loop.TensorBoardScalars(fn_args.model_run_dir)],
        **schedule,
    )
    config = fn_args.custom_config
    signatures.export(
        model,
        fn_args.serving_model_dir,
        tf_transform_output,
        config["label"],
        config["problem"],
        input_keys=[images.image_key(ctx.features)],
    )


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches width, depth and learning rate (trials use `fit`; the Trainer uses the loop)."""
    return keras_trainer.tuner(fn_args, _compiled, HParams(), search_space)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth and learning rate."""
    return {
        "units": kt_hp.Choice("units", [64, 128, 256]),
        "layers": kt_hp.Int("layers", 1, 3),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]),
    }
