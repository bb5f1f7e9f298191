"""Subclassed digits classifier trained by a custom GradientTape loop inside run_fn (no `fit`).

The shared Keras run drives the loop: it builds the model under the strategy and precision
policy, compiles it (the loop steps `model.optimizer`, schedules and loss scaling included)
and hands the loop its callbacks.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import examples, images, keras_run, keras_trainer
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


def compiled(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """`build`, compiled with the task's loss, metric and scheduled optimizer."""
    return keras_trainer.compile_model(build(ctx, hp), ctx, hp)


def fit(model: tf.keras.Model, plan: keras_run.Plan) -> dict[str, list[float]]:
    """The GradientTape loop over the run's plan and with the run's callbacks."""
    return loop.train(
        model, plan.train, plan.val, plan.epochs, plan.steps_per_epoch, plan.callbacks
    )


def export(model, serving_dir: str, data, hp) -> None:
    """The raw-example export; a subclassed model has no named inputs, so they are given."""
    examples.export(model, serving_dir, data, hp, input_keys=[images.image_key(data.ctx.features)])


# The loop does not call `fit`, so BackupAndRestore (which resumes through it) is left out.
RECIPE = keras_run.Recipe(HParams(), compiled, fit=fit, export=export, backup=False)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains the subclassed model with the custom loop and exports it like every task."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches width, depth and learning rate (trials use `fit`; the Trainer uses the loop)."""
    return keras_run.tuner(fn_args, RECIPE, search_space)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth and learning rate."""
    return {
        "units": kt_hp.Choice("units", [64, 128, 256]),
        "layers": kt_hp.Int("layers", 1, 3),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]),
    }
