"""Fits a Decision Transformer on trajectories with Keras: masked action cross-entropy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import tensorflow as tf

from trainers.common import callbacks
from trainers.rl import dt_model, envs
from trainers.rl.dt_policy import DTParams, windows
from trainers.rl.monitor import seed_everything


def shape_for(params: DTParams, longest_episode: int) -> dt_model.DTShape:
    """The model shape for `params.env_id`; timesteps up to the env's episode limit."""
    obs_shape, n_actions = envs.env_spec(params.env_id)
    limit = gym.spec(params.env_id).max_episode_steps or longest_episode
    return dt_model.DTShape(int(np.prod(obs_shape)), n_actions, params.context, int(limit))


def train(
    train_eps,
    val_eps,
    params: DTParams,
    train_steps: int,
    log_dir: str | None = None,
    initial_weights=None,
):
    """Trains on windows of `train_eps`, validates on fixed windows of `val_eps`.

    Args:
        train_eps: Training trajectories (`trajectories.Trajectory`).
        val_eps: Validation trajectories.
        params: Hyper-parameters.
        train_steps: Gradient steps at most (early stopping may end sooner).
        log_dir: TensorBoard and checkpoint directory (None: no callbacks, no logs).
        initial_weights: `get_weights()` of a same-shaped model to start from (warm start).

    Returns:
        (model with the best validation weights, its `DTShape`).

    """
    p = params
    seed_everything(p.seed)
    shape = shape_for(p, max(len(t) for t in train_eps))
    model = dt_model.build(shape, p.dim, p.layers, p.heads, p.dropout)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    model.compile(
        optimizer=tf.keras.optimizers.AdamW(p.learning_rate, weight_decay=p.weight_decay),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
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
    data = tf.data.Dataset.from_generator(batches, output_signature=signature)
    val = windows(val_eps, p.val_windows, shape, p.rtg_scale, np.random.default_rng(p.seed + 1))
    steps = max(1, min(p.steps_per_epoch, train_steps))
    model.fit(
        data,
        validation_data=val,
        steps_per_epoch=steps,
        epochs=max(1, train_steps // steps),
        callbacks=callbacks.standard(log_dir, p.patience) if log_dir else [],
        verbose=0,
    )
    return model, shape
