"""The cartpole_dt task: a Decision Transformer fitted by the standard TFX Trainer."""

from __future__ import annotations

import dataclasses

from trainers import contract
from trainers.common import keras_run
from trainers.rl import dt_policy, dt_train

HParams = dt_policy.DTParams  # what `kfx run cartpole_dt --set KEY=VALUE` may override


# TFX Trainer calls this.
def run_fn(fn_args):
    """Fits the Decision Transformer on TrajectoryGen's episodes and exports the policy."""
    env_id = contract.TrainerConfig.from_fn_args(fn_args).env_id or HParams.env_id
    # The task's environment is the default; `--set env_id=...` (hparams) still wins.
    params = dataclasses.replace(dt_train.RECIPE.params, env_id=env_id)
    keras_run.run(fn_args, dataclasses.replace(dt_train.RECIPE, params=params))
