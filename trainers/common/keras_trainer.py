"""The body of every tabular Keras `run_fn` and `tuner_fn`: data, fit, warm start, export.

A trainer package supplies only a model builder `build(ctx, hp) -> compiled tf.keras.Model`
and a hyper-parameter dataclass; wiring, callbacks and signatures live here, once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
from absl import logging

from trainers.common import callbacks, distribute, hparams, inputs, signatures
from trainers.common.features import LABEL_VOCAB, InputFeatures, xf

LABEL_STATS_BATCHES = 50  # batches read to estimate a regression label's mean and std


@dataclasses.dataclass(frozen=True)
class FitParams:
    """Hyper-parameters every Keras trainer shares; trainers subclass and add their own."""

    batch_size: int = 32
    """Examples per training batch."""
    learning_rate: float = 1e-2
    """Adam's learning rate."""
    steps_per_epoch: int = 50
    """Training steps between validations (early stopping and checkpoints act per epoch)."""
    patience: int = 8
    """Epochs without validation improvement before early stopping restores the best weights."""
    seed: int = 42
    """Seed of weight initialisation, dropout and shuffling."""


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


def compile_model(model: tf.keras.Model, ctx: Context, learning_rate: float) -> tf.keras.Model:
    """Compiles with the loss and the metric the task's Evaluator gates on."""
    if ctx.problem == "classification":
        loss = tf.keras.losses.SparseCategoricalCrossentropy()
        metrics = [tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    else:
        loss = tf.keras.losses.MeanSquaredError()
        metrics = [tf.keras.metrics.RootMeanSquaredError(name="rmse")]
    model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate), loss=loss, metrics=metrics)
    return model


def output_layer(ctx: Context, name: str = "output") -> list[tf.keras.layers.Layer]:
    """Softmax over the classes, or a linear unit scaled to the label's units."""
    from trainers.common.layers import Denormalize

    if ctx.problem == "classification":
        return [tf.keras.layers.Dense(ctx.n_classes, activation="softmax", name=name)]
    return [tf.keras.layers.Dense(1, name=name), Denormalize(ctx.label_mean, ctx.label_std)]


def _prepare(fn_args, default: FitParams):
    config = fn_args.custom_config or {}
    label, problem = config["label"], config["problem"]
    hp = hparams.from_fn_args(default, fn_args)
    tf.keras.utils.set_random_seed(hp.seed)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    features = InputFeatures.from_transform_output(tf_transform_output, label)

    def data(files, epochs):
        return inputs.dataset(
            files,
            fn_args.data_accessor,
            tf_transform_output,
            xf(label),
            features.keys,
            hp.batch_size,
            num_epochs=epochs,
            seed=hp.seed,
        )

    train, val = data(fn_args.train_files, None), data(fn_args.eval_files, 1)
    if problem == "classification":
        ctx = Context(features, problem, tf_transform_output.vocabulary_size_by_name(LABEL_VOCAB))
    else:
        labels = tf.concat([y for _, y in train.take(LABEL_STATS_BATCHES)], axis=0)
        std = float(tf.math.reduce_std(labels))
        ctx = Context(features, problem, 0, float(tf.reduce_mean(labels)), std if std > 0 else 1.0)
    return hp, ctx, tf_transform_output, train, val


def _schedule(train_steps: int, hp: FitParams) -> dict[str, int]:
    steps = max(1, min(hp.steps_per_epoch, train_steps))
    return {"steps_per_epoch": steps, "epochs": max(1, train_steps // steps)}


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


def run(fn_args, build: Callable[[Context, Any], tf.keras.Model], default: FitParams) -> None:
    """Trains `build(ctx, hp)` on the transformed examples and exports it for serving."""
    hp, ctx, tf_transform_output, train, val = _prepare(fn_args, default)
    with distribute.strategy().scope():
        model = build(ctx, hp)
    if fn_args.base_model:
        warm_start(model, fn_args.base_model)
    model.fit(
        train,
        validation_data=val,
        callbacks=callbacks.standard(fn_args.model_run_dir, hp.patience),
        verbose=0,
        **_schedule(fn_args.train_steps, hp),
    )
    config = fn_args.custom_config
    signatures.export(
        model, fn_args.serving_model_dir, tf_transform_output, config["label"], config["problem"]
    )


def tuner(fn_args, build, default: FitParams, space: Callable[[Any], dict]):
    """A keras-tuner search over `space(kt_hp) -> {field: value}` applied to `default`.

    `custom_config['tuner']` picks 'random', 'bayesian' or 'hyperband';
    `custom_config['tune_trials']` bounds the number of trials.
    """
    import keras_tuner as kt
    from tfx.v1.components import TunerFnResult

    hp, ctx, _, train, val = _prepare(fn_args, default)
    config = fn_args.custom_config or {}
    trials = int(config.get("tune_trials", 6))
    if ctx.problem == "classification":
        objective = kt.Objective("val_accuracy", direction="max")
    else:
        objective = kt.Objective("val_rmse", direction="min")

    def hypermodel(kt_hp):
        return build(ctx, hparams.override(hp, space(kt_hp)))

    common = dict(
        distribution_strategy=distribute.strategy(),
        objective=objective,
        directory=fn_args.working_dir,
        project_name="kfx",
        overwrite=True,
        seed=hp.seed,
    )
    schedule = _schedule(fn_args.train_steps, hp)
    algorithm = config.get("tuner", "random")
    if algorithm == "random":
        search = kt.RandomSearch(hypermodel, max_trials=trials, **common)
    elif algorithm == "bayesian":
        search = kt.BayesianOptimization(hypermodel, max_trials=trials, **common)
    elif algorithm == "hyperband":
        search = kt.Hyperband(hypermodel, max_epochs=schedule.pop("epochs"), factor=3, **common)
        # keras-tuner 1.3.5 leaves max_trials None for Hyperband; TFX's Tuner needs a number.
        search.oracle.max_trials = trials
    else:
        raise ValueError(f"unknown tuner {algorithm!r}; use random, bayesian or hyperband")
    return TunerFnResult(
        tuner=search, fit_kwargs={"x": train, "validation_data": val, "verbose": 0, **schedule}
    )
