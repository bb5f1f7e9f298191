"""The cartpole_qnet task: online Q-learning behind the RLTrainer contract."""

from __future__ import annotations

from trainers.contract import TrainerConfig
from trainers.rl import export, monitor, qlearning

HParams = qlearning.QLearningParams  # what `kfx run cartpole_qnet --set KEY=VALUE` may override


# RLTrainer calls this.
def train_policy(
    config: TrainerConfig, log_dir: str | None, base_model: str | None
) -> monitor.TrainResult:
    """Trains a Q-network online; `base_model` (a previous policy's SavedModel) warm-starts it."""
    return export.train_from_config(qlearning.train, HParams(), config, log_dir, base_model)
