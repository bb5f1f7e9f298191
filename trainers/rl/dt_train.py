"""Fits a Decision Transformer with the shared Keras run: masked action cross-entropy.

The DT is a `keras_run.Recipe` whose data are episodes (windows drawn from TrajectoryGen's
trajectories) instead of transformed examples, whose optimizer is AdamW, and whose export is
the episodic policy (`dt_policy.save`); seed, precision, schedule, callbacks and fit are the
run's, as for every Keras trainer.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import tensorflow as tf

from trainers.common import keras_run, keras_trainer
from trainers.rl import dt_model, dt_policy, envs, trajectories
from trainers.rl.dt_policy import DTParams, windows


@dataclasses.dataclass(frozen=True)
class DTContext:
    """What the Decision Transformer's builder needs to know about the data and the fit."""

    shape: dt_model.DTShape
    """The model's shape (environment, window, longest episode)."""
    train_steps: int = 0
    """Optimizer steps of the whole fit; learning-rate schedules span them."""


def shape_for(params: DTParams, longest_episode: int) -> dt_model.DTShape:
    """The model shape for `params.env_id`; timesteps up to the env's episode limit."""
    obs_shape, n_actions = envs.env_spec(params.env_id)
    limit = gym.spec(params.env_id).max_episode_steps or longest_episode
    return dt_model.DTShape(int(np.prod(obs_shape)), n_actions, params.context, int(limit))


def episodes_data(train_eps, val_eps, params: DTParams) -> keras_trainer.TrainData:
    """Endless batches of windows of `train_eps` and fixed validation windows of `val_eps`."""
    p = params
    shape = shape_for(p, max(len(t) for t in train_eps))
    rng = np.random.default_rng(p.seed)

    def batches():
        while True:
            yield windows(train_eps, p.batch_size, shape, p.rtg_scale, rng)

    sample = windows(train_eps, 1, shape, p.rtg_scale, np.random.default_rng(0))
    signature = tuple(
        (
            {k: tf.TensorSpec((None, *v.shape[1:]), v.dtype) for k, v in part.items()}
            if isinstance(part, dict)
            else tf.TensorSpec((None, *part.shape[1:]), part.dtype)
        )
        for part in sample
    )
    train = tf.data.Dataset.from_generator(batches, output_signature=signature)
    val = windows(val_eps, p.val_windows, shape, p.rtg_scale, np.random.default_rng(p.seed + 1))
    return keras_trainer.TrainData(DTContext(shape), train, val)


def data(fn_args, config, params: DTParams) -> keras_trainer.TrainData:
    """The Trainer's train and eval episodes (TrajectoryGen's tf.Examples) as windows."""
    train_eps = trajectories.load(fn_args.train_files)
    found = episodes_data(train_eps, trajectories.load(fn_args.eval_files), params)
    return dataclasses.replace(found, config=config)


def build(ctx: DTContext, params: DTParams) -> tf.keras.Model:
    """The compiled Decision Transformer: AdamW (the run's schedule), masked cross-entropy.

    Under a mixed precision policy the logits are cast to float32, so the loss and the
    exported policy see float32 like every other trainer's outputs.
    """
    p = params
    model = dt_model.build(ctx.shape, p.dim, p.layers, p.heads, p.dropout)
    if model.output.dtype != tf.float32:
        logits = tf.keras.layers.Activation("linear", dtype="float32", name="logits_float32")(
            model.output
        )
        model = tf.keras.Model(model.input, logits, name=model.name)

    def adamw(rate):
        return tf.keras.optimizers.AdamW(rate, weight_decay=p.weight_decay)

    model.compile(
        optimizer=keras_trainer.optimizer(p, ctx, model, make=adamw),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def warm_start(model: tf.keras.Model, base_model: str) -> None:
    """Starts from the weights of a previous DT export of the same shape."""
    model.set_weights(dt_policy.load_weights(base_model))


def export(model: tf.keras.Model, serving_dir: str, data, params: DTParams) -> None:
    """The episodic policy's SavedModel and manifest."""
    dt_policy.save(model, serving_dir, data.ctx.shape, params)


RECIPE = keras_run.Recipe(DTParams(), build, data=data, export=export, warm_start=warm_start)


def train(
    train_eps,
    val_eps,
    params: DTParams,
    train_steps: int,
    log_dir: str | None = None,
    base_model: str | None = None,
):
    """Trains on windows of `train_eps`, validates on fixed windows of `val_eps`.

    What `run_fn` does without a TFX Trainer around it (no hparams.json, no export).

    Args:
        train_eps: Training trajectories (`trajectories.Trajectory`).
        val_eps: Validation trajectories.
        params: Hyper-parameters.
        train_steps: Gradient steps at most (early stopping may end sooner).
        log_dir: TensorBoard and checkpoint directory (None: the schedule's callbacks only).
        base_model: a previous DT export to start from (warm start).

    Returns:
        (model with the best validation weights, its `DTShape`).

    """
    tf.keras.utils.set_random_seed(params.seed)
    found = episodes_data(train_eps, val_eps, params)
    model, _ = keras_run.train(RECIPE, params, found, train_steps, log_dir, base_model)
    return model, found.ctx.shape
