"""The cartpole_dqn task: trainers.rl.dqn with its defaults, behind the RLTrainer contract."""

from __future__ import annotations

from trainers.contract import TrainerConfig
from trainers.rl import dqn, export, monitor

HParams = dqn.DQNParams  # what `kfx run cartpole_dqn --set KEY=VALUE` may override


# RLTrainer calls this.
def train_policy(
    config: TrainerConfig, log_dir: str | None, base_model: str | None
) -> monitor.TrainResult:
    """Trains a DQN policy; `base_model` (a previous policy's SavedModel) warm-starts it.

    Args:
        config: The run's settings: `hparams` over `HParams()`, `env_id`, and `train_steps`
            as the environment-step budget (None: the dataclass default).
        log_dir: TensorBoard log directory (None: no logs).
        base_model: A `save_policy` SavedModel directory to start from, or None.

    Returns:
        The best Q-network and its training record.

    """
    params = config.params(HParams(), env_id=config.env_id, total_timesteps=config.train_steps)
    initial = export.load_weights(base_model) if base_model else None
    return dqn.train(params, log_dir, initial_weights=initial)
