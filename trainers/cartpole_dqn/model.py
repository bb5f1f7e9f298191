"""The cartpole_dqn task: trainers.rl.dqn with its defaults, behind the RLTrainer contract."""

from __future__ import annotations

from trainers.common import hparams
from trainers.rl import dqn, export, monitor

HParams = dqn.DQNParams  # what `kfx run cartpole_dqn --set KEY=VALUE` may override


# RLTrainer calls this.
def train_policy(config: dict, log_dir: str, base_model: str | None) -> monitor.TrainResult:
    """Trains a DQN policy; `base_model` (a previous policy's SavedModel) warm-starts it."""
    params = hparams.override(HParams(), config)
    initial = export.load_weights(base_model) if base_model else None
    return dqn.train(params, log_dir, initial_weights=initial)
