"""The cartpole_qnet task: online Q-learning behind the RLTrainer contract."""

from __future__ import annotations

from trainers.common import hparams
from trainers.rl import export, monitor, qlearning

HParams = qlearning.QLearningParams  # what `kfx run cartpole_qnet --set KEY=VALUE` may override


# RLTrainer calls this.
def train_policy(config: dict, log_dir: str, base_model: str | None) -> monitor.TrainResult:
    """Trains a Q-network online; `base_model` (a previous policy's SavedModel) warm-starts it."""
    params = hparams.override(HParams(), config)
    initial = export.load_weights(base_model) if base_model else None
    return qlearning.train(params, log_dir, initial_weights=initial)
