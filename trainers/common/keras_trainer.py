"""What a Keras trainer builds with: hyper-parameters, the data context, compile helpers.

A trainer package supplies a model builder `build(ctx, hp) -> compiled tf.keras.Model` and a
hyper-parameter dataclass (a `FitParams`); `keras_run` does the rest (data, callbacks, fit,
export) once for every trainer. This module holds what builders use: `Context`, the output
layers, `compile_model` and `optimizer`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf
from absl import logging

from trainers import contract
from trainers.common import precision, schedules
from trainers.common.features import InputFeatures


@dataclasses.dataclass(frozen=True)
class FitParams:
    """Hyper-parameters every Keras trainer shares; trainers subclass and add their own."""

    batch_size: int = 32
    """Examples per training batch."""
    learning_rate: float = 1e-2
    """Adam's learning rate (the peak rate for lr_schedule='one_cycle')."""
    lr_schedule: str = "constant"
    """constant, exponential, piecewise, one_cycle or plateau (trainers/common/schedules.py)."""
    lr_decay_rate: float = 0.1
    """exponential: LR factor per lr_decay_steps; piecewise: LR factor at each boundary."""
    lr_decay_steps: int = 0
    """exponential: steps over which the LR falls by lr_decay_rate (0: the whole run)."""
    lr_boundaries: tuple = ()
    """piecewise: steps where the LR drops, e.g. 500,750 (empty: 1/2 and 3/4 of the run)."""
    lr_warmup_fraction: float = 0.3
    """one_cycle: share of the run spent rising to learning_rate."""
    lr_div_factor: float = 25.0
    """one_cycle: the run starts at learning_rate / lr_div_factor."""
    lr_plateau_factor: float = 0.5
    """plateau: LR factor when val_loss has not improved for lr_plateau_patience epochs."""
    lr_plateau_patience: int = 2
    """plateau: epochs without improvement before the LR drops (keep it below patience)."""
    precision: str = "float32"
    """float32, mixed_bfloat16, mixed_float16, or auto (mixed_float16 if a GPU is visible)."""
    steps_per_epoch: int = 50
    """Training steps between validations (early stopping and checkpoints act per epoch)."""
    patience: int = 8
    """Epochs without validation improvement before early stopping restores the best weights."""
    seed: int = 42
    """Seed of weight initialisation, dropout and shuffling."""

    def __post_init__(self):
        """Rejects unknown schedule and precision names before any work is done."""
        if self.lr_schedule not in schedules.NAMES:
            raise ValueError(
                f"lr_schedule {self.lr_schedule!r}: use one of {', '.join(schedules.NAMES)}"
            )
        precision.resolve(self.precision)


@dataclasses.dataclass(frozen=True)
class HeadContext(contract.Head):
    """One output of a multi-output model with what the data says about its label.

    The pipeline's `contract.Head` (name, label, problem) plus the class count or the label
    statistics its output layer needs (`head_output`).
    """

    n_classes: int = 0
    """Number of classes (0 for regression)."""
    label_mean: float = 0.0
    """Regression label mean over training batches."""
    label_std: float = 1.0
    """Regression label standard deviation."""


@dataclasses.dataclass(frozen=True)
class Context:
    """What a model builder needs to know about the data."""

    features: InputFeatures
    """Transformed input features."""
    problem: str
    """'classification' or 'regression'."""
    n_classes: int
    """Number of classes (0 for regression)."""
    label_mean: float = 0.0
    """Regression label mean over training batches (for the output layer's scale)."""
    label_std: float = 1.0
    """Regression label standard deviation."""
    train_steps: int = 0
    """Optimizer steps of the whole fit; learning-rate schedules span them."""
    heads: tuple[HeadContext, ...] = ()
    """Outputs of a multi-output model, main first (empty: one output, described above)."""
    classes: tuple[str, ...] = ()
    """Class names in the order of the model's probabilities (classification)."""
    base_model: str | None = None
    """The Trainer's base model (a warm start's, a backbone's or a teacher's); None: none."""


@dataclasses.dataclass(frozen=True)
class TrainData:
    """What a run fits on: the builder's context and the datasets."""

    ctx: Any
    """What `build(ctx, hp)` gets: a `Context`, or a recipe's own dataclass with a
    `train_steps` field (the Decision Transformer's shape)."""
    train: Any
    """Training batches, repeated (a `tf.data.Dataset`)."""
    val: Any
    """Validation data, read once per epoch (a dataset, or `fit`'s (x, y, weights) arrays)."""
    config: contract.TrainerConfig = dataclasses.field(default_factory=contract.TrainerConfig)
    """What the pipeline handed the trainer (label, problem, outputs)."""
    transform_output: Any = None
    """The `tft.TFTransformOutput` of transformed examples (None for other data)."""


def optimizer(hp: FitParams | float, ctx, model: tf.keras.Model, make=None):
    """Adam with `hp`'s learning-rate schedule, loss-scaled when `model` computes in float16.

    Args:
        hp: the trainer's hyper-parameters, or a plain float (a constant learning rate).
        ctx: the data context; a schedule spans its `train_steps`.
        model: the built model (its dtype policy decides on loss scaling).
        make: `make(learning_rate) -> optimizer` for another optimizer than Adam (AdamW).

    """
    if isinstance(hp, FitParams):
        rate = schedules.make(hp, ctx.train_steps).learning_rate
    else:
        rate = float(hp)
    chosen = (make or tf.keras.optimizers.Adam)(rate)
    if model.dtype_policy.compute_dtype == "float16":
        return tf.keras.mixed_precision.LossScaleOptimizer(chosen)
    return chosen


def _loss_and_metric(problem: str):
    if problem == "classification":
        return (
            tf.keras.losses.SparseCategoricalCrossentropy(),
            tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        )
    return tf.keras.losses.MeanSquaredError(), tf.keras.metrics.RootMeanSquaredError(name="rmse")


def compile_model(
    model: tf.keras.Model,
    ctx: Context,
    hp: FitParams | float,
    loss_weights: dict[str, float] | None = None,
) -> tf.keras.Model:
    """Compiles with the loss and the metric the task's Evaluator gates on.

    Args:
        model: the built model.
        ctx: the data context.
        hp: the trainer's hyper-parameters (their learning-rate schedule applies), or a
            constant learning rate.
        loss_weights: a multi-output model's (`ctx.heads`) {head name: loss weight}; None
            weighs every output equally. Each output gets its own loss and metric.

    """
    if ctx.heads:
        pairs = {head.name: _loss_and_metric(head.problem) for head in ctx.heads}
        loss = {name: pair[0] for name, pair in pairs.items()}
        metrics = {name: [pair[1]] for name, pair in pairs.items()}
    else:
        loss, metric = _loss_and_metric(ctx.problem)
        metrics, loss_weights = [metric], None
    model.compile(
        optimizer=optimizer(hp, ctx, model), loss=loss, metrics=metrics, loss_weights=loss_weights
    )
    return model


def output_layer(ctx: Context, name: str = "output") -> list[tf.keras.layers.Layer]:
    """Softmax over the classes, or a linear unit scaled to the label's units.

    Always float32, also under a mixed precision policy: the loss, the metrics and the
    exported signatures then see float32.
    """
    from trainers.common.layers import Denormalize

    if ctx.problem == "classification":
        return [
            tf.keras.layers.Dense(ctx.n_classes, activation="softmax", name=name, dtype="float32")
        ]
    return [
        tf.keras.layers.Dense(1, name=name, dtype="float32"),
        Denormalize(ctx.label_mean, ctx.label_std, dtype="float32"),
    ]


def head_output(head: HeadContext, x: tf.Tensor) -> tf.Tensor:
    """One output of a multi-output model on features `x`, its last layer named `head.name`.

    Keras names losses and metrics after the output layer, so the head's name is what
    `compile_model`, the fit history (`val_<head>_rmse`) and the serving outputs use.
    Float32 like `output_layer`.
    """
    from trainers.common.layers import Denormalize

    if head.problem == "classification":
        return tf.keras.layers.Dense(
            head.n_classes, activation="softmax", name=head.name, dtype="float32"
        )(x)
    z = tf.keras.layers.Dense(1, name=f"{head.name}_z", dtype="float32")(x)
    return Denormalize(head.label_mean, head.label_std, name=head.name, dtype="float32")(z)


def warm_start(model: tf.keras.Model, base_model_dir: str) -> int:
    """Copies weights of same-named, same-shaped layers from a previous SavedModel.

    Returns:
        The number of layers whose weights were copied.

    """
    base = tf.keras.models.load_model(base_model_dir, compile=False)
    copied = 0
    for layer in model.layers:
        try:
            source = base.get_layer(layer.name)
        except ValueError:
            continue
        weights = source.get_weights()
        if weights and [w.shape for w in weights] == [w.shape for w in layer.get_weights()]:
            layer.set_weights(weights)
            copied += 1
    logging.info("warm start: copied %d layers from %s", copied, base_model_dir)
    return copied
