"""The cartpole_dqn task: trainers.rl.dqn with its defaults, behind the RLTrainer contract."""

from __future__ import annotations

from trainers.contract import TrainerConfig
from trainers.rl import dqn, export, monitor

HParams = dqn.DQNParams  # what `kfx run cartpole_dqn --set KEY=VALUE` may override


# RLTrainer calls this.
def train_policy(
    config: TrainerConfig, log_dir: str | None, base_model: str | None
) -> monitor.TrainResult:
    """Trains a DQN policy; `base_model` (a previous policy's SavedModel) warm-starts it."""
    return export.train_from_config(dqn.train, HParams(), config, log_dir, base_model)
