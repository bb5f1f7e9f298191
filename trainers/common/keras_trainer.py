"""The body of every tabular Keras `run_fn` and `tuner_fn`: data, fit, warm start, export.

A trainer package supplies only a model builder `build(ctx, hp) -> compiled tf.keras.Model`
and a hyper-parameter dataclass; wiring, callbacks and signatures live here, once.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging

from trainers.common import (
    callbacks,
    distribute,
    hparams,
    inputs,
    precision,
    schedules,
    signatures,
)
from trainers.common.features import LABEL_VOCAB, InputFeatures, xf

LABEL_STATS_BATCHES = 50  # batches read to estimate a regression label's mean and std
HPARAMS_FILE = "hparams.json"  # in model_run: what the Trainer trained with, for people and tests


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
class Head:
    """One output of a multi-output model (what the Trainer's `custom_config['outputs']` lists)."""

    name: str
    """Output key: names the model's output, its loss and metrics, and its serving outputs."""
    label: str
    """Raw label column the output learns."""
    problem: str
    """'classification' or 'regression'."""
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
    heads: tuple[Head, ...] = ()
    """Outputs of a multi-output model, main first (empty: one output, described above)."""


def optimizer(hp: FitParams | float, ctx: Context, model: tf.keras.Model):
    """Adam with `hp`'s learning-rate schedule, loss-scaled when `model` computes in float16.

    A plain float `hp` is a constant learning rate.
    """
    if isinstance(hp, FitParams):
        rate = schedules.make(hp, ctx.train_steps).learning_rate
    else:
        rate = float(hp)
    adam = tf.keras.optimizers.Adam(rate)
    if model.dtype_policy.compute_dtype == "float16":
        return tf.keras.mixed_precision.LossScaleOptimizer(adam)
    return adam


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


def head_output(head: Head, x: tf.Tensor) -> tf.Tensor:
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


def _input_features(tf_transform_output, label: str, outputs: list[dict]) -> InputFeatures:
    """The model inputs: every transformed feature except the labels of all outputs."""
    labels = {label} | {o["label"] for o in outputs}
    classified = [o["label"] for o in outputs if o["problem"] == "classification"]
    # InputFeatures skips one label; a class label left in would need its own vocabulary.
    features = InputFeatures.from_transform_output(
        tf_transform_output, classified[0] if classified else label
    )
    keys = {xf(name) for name in labels}
    return dataclasses.replace(
        features,
        numeric=tuple(k for k in features.numeric if k not in keys),
        categorical={k: v for k, v in features.categorical.items() if k not in keys},
    )


def _stats(values: tf.Tensor) -> tuple[float, float]:
    std = float(tf.math.reduce_std(values))
    return float(tf.reduce_mean(values)), std if std > 0 else 1.0


def _head(output: dict, n_classes: int, sample: list) -> Head:
    """A Head from a `custom_config['outputs']` entry and sampled label batches."""
    name, label, problem = output["name"], output["label"], output["problem"]
    if problem == "classification":
        return Head(name, label, problem, n_classes)
    return Head(name, label, problem, 0, *_stats(_concat(sample, name)))


def _concat(batches: list, head: str | None) -> tf.Tensor:
    """One head's labels (or the single label) of sampled batches, as one float vector."""
    values = [y if head is None else y[head] for y in batches]
    return tf.cast(tf.reshape(tf.concat(values, axis=0), [-1]), tf.float32)


def _prepare(fn_args, default: FitParams):
    config = fn_args.custom_config or {}
    label, problem = config["label"], config["problem"]
    hp = hparams.from_fn_args(default, fn_args)
    tf.keras.utils.set_random_seed(hp.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    outputs = list(config.get("outputs") or [])  # a multi-output model's, main first
    features = _input_features(tf_transform_output, label, outputs)
    other_labels = tuple(sorted({xf(o["label"]) for o in outputs} - {xf(label)}))

    def split(x, y):  # (inputs, {output name: its label}); outputs may share a label
        labels = {**{k: x[k] for k in other_labels}, xf(label): y}
        return {k: x[k] for k in features.keys}, {
            o["name"]: labels[xf(o["label"])] for o in outputs
        }

    def data(files, epochs):
        batches = inputs.dataset(
            files,
            fn_args.data_accessor,
            tf_transform_output,
            xf(label),
            features.keys + other_labels,
            hp.batch_size,
            num_epochs=epochs,
            seed=hp.seed,
        )
        return batches.map(split) if outputs else batches

    train, val = data(fn_args.train_files, None), data(fn_args.eval_files, 1)
    problems = {problem} | {o["problem"] for o in outputs}
    n_classes = 0
    if "classification" in problems:
        n_classes = tf_transform_output.vocabulary_size_by_name(LABEL_VOCAB)
    sample = [y for _, y in train.take(LABEL_STATS_BATCHES)] if "regression" in problems else []
    heads = tuple(_head(o, n_classes, sample) for o in outputs)
    if problem == "classification":
        ctx = Context(features, problem, n_classes, heads=heads)
    else:
        mean, std = _stats(_concat(sample, heads[0].name if heads else None))
        ctx = Context(features, problem, 0, mean, std, heads=heads)
    fit = _schedule(fn_args.train_steps, hp)
    ctx = dataclasses.replace(ctx, train_steps=fit["steps_per_epoch"] * fit["epochs"])
    return hp, ctx, tf_transform_output, train, val


def _schedule(train_steps: int, hp: FitParams) -> dict[str, int]:
    steps = max(1, min(hp.steps_per_epoch, train_steps))
    return {"steps_per_epoch": steps, "epochs": max(1, train_steps // steps)}


def prepare(fn_args, default: FitParams):
    """What a trainer with its own training loop needs from the run (`run` uses `fit`).

    Returns:
        (hp, ctx, tf_transform_output, train, val, schedule): the effective hyper-parameters,
        the data context, the Transform output, the train (repeated) and eval datasets, and
        `{'steps_per_epoch': ..., 'epochs': ...}` as `run` would fit them.

    """
    hp, ctx, tf_transform_output, train, val = _prepare(fn_args, default)
    return hp, ctx, tf_transform_output, train, val, _schedule(fn_args.train_steps, hp)


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


def write_hparams(model_run_dir: str, hp) -> str:
    """Writes the effective hyper-parameters (defaults, `--set`, Tuner) as hparams.json."""
    path = os.path.join(model_run_dir, HPARAMS_FILE)
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(dataclasses.asdict(hp), indent=2, sort_keys=True))
    return path


def run(fn_args, build: Callable[[Context, Any], tf.keras.Model], default: FitParams) -> None:
    """Trains `build(ctx, hp)` on the transformed examples and exports it for serving."""
    hp, ctx, tf_transform_output, train, val = _prepare(fn_args, default)
    write_hparams(fn_args.model_run_dir, hp)
    with distribute.strategy().scope(), precision.policy(hp.precision):
        model = build(ctx, hp)
    schedules.check_applied(model, hp)
    if fn_args.base_model:
        warm_start(model, fn_args.base_model)
    model.fit(
        train,
        validation_data=val,
        callbacks=[
            schedules.LearningRateLogger(),  # before TensorBoard, which then logs `epoch_lr`
            *schedules.make(hp, ctx.train_steps).callbacks,
            *callbacks.standard(fn_args.model_run_dir, hp.patience),
        ],
        verbose=0,
        **_schedule(fn_args.train_steps, hp),
    )
    config = fn_args.custom_config
    signatures.export(
        model,
        fn_args.serving_model_dir,
        tf_transform_output,
        config["label"],
        config["problem"],
        outputs=ctx.heads,
    )


def _objective(ctx: Context):
    """The validation metric a search optimises: the (main output's) gated metric."""
    import keras_tuner as kt

    prefix = f"val_{ctx.heads[0].name}_" if ctx.heads else "val_"
    if ctx.problem == "classification":
        return kt.Objective(f"{prefix}accuracy", direction="max")
    return kt.Objective(f"{prefix}rmse", direction="min")


def tuner(fn_args, build, default: FitParams, space: Callable[[Any], dict]):
    """A keras-tuner search over `space(kt_hp) -> {field: value}` applied to `default`.

    `custom_config['tuner']` picks 'random', 'bayesian' or 'hyperband';
    `custom_config['tune_trials']` bounds the number of trials.
    """
    import keras_tuner as kt
    from tfx.components.tuner.component import TunerFnResult

    from trainers.common import tuning

    hp, ctx, _, train, val = _prepare(fn_args, default)
    config = fn_args.custom_config or {}
    objective = _objective(ctx)
    schedule = _schedule(fn_args.train_steps, hp)
    search = tuning.tuner(
        config.get("tuner", "random"),
        tuning.HyperModel(build, ctx, hp, space),
        objective,
        max_trials=int(config.get("tune_trials", 6)),
        max_epochs=schedule["epochs"],
        distribution_strategy=distribute.strategy(),
        directory=fn_args.working_dir,
        project_name="kfx",
        overwrite=True,
        seed=hp.seed,
    )
    if isinstance(search, kt.Hyperband):
        schedule.pop("epochs")  # Hyperband sets each trial's epochs
    return TunerFnResult(
        tuner=search, fit_kwargs={"x": train, "validation_data": val, "verbose": 0, **schedule}
    )
