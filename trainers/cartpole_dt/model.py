"""The cartpole_dt task: a Decision Transformer fitted by the standard TFX Trainer."""

from __future__ import annotations

import dataclasses

from trainers.common import hparams
from trainers.rl import dt_policy, dt_train, trajectories

HParams = dt_policy.DTParams  # what `kfx run cartpole_dt --set KEY=VALUE` may override


# TFX Trainer calls this.
def run_fn(fn_args):
    """Fits the Decision Transformer on TrajectoryGen's episodes and exports the policy."""
    config = fn_args.custom_config or {}
    default = dataclasses.replace(HParams(), env_id=config.get("env_id", HParams.env_id))
    params = hparams.from_fn_args(default, fn_args)
    train = trajectories.load(fn_args.train_files)
    val = trajectories.load(fn_args.eval_files)
    initial = dt_policy.load_weights(fn_args.base_model) if fn_args.base_model else None
    model, shape = dt_train.train(
        train, val, params, fn_args.train_steps, fn_args.model_run_dir, initial
    )
    dt_policy.save(model, fn_args.serving_model_dir, shape, params)
