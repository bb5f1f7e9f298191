"""Online Q-learning: the update semantics, determinism and early stopping."""

import dataclasses

import numpy as np
import tensorflow as tf

from trainers.cartpole_qnet import model as cartpole_qnet
from trainers.contract import TrainerConfig
from trainers.rl import qlearning

TINY = qlearning.QLearningParams(
    total_timesteps=800, num_envs=4, hidden=(16,), eval_every=400, eval_episodes=3
)


def test_update_moves_q_towards_the_td_target():
    learner = qlearning.OnlineLearner(4, 2, dataclasses.replace(TINY, learning_rate=1e-2))
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(8, 4)).astype(np.float32)
    next_obs = rng.normal(size=(8, 4)).astype(np.float32)
    actions = rng.integers(0, 2, size=8)
    rewards = np.ones(8, np.float32)
    dones = np.ones(8, np.float32)  # terminal: the target is the reward, whatever Q(s') is
    args = (obs, actions, next_obs, rewards, dones)
    losses = [float(learner.update(*args)["td_loss"]) for _ in range(200)]
    assert losses[-1] < 0.1 * losses[0]
    q = tf.gather(learner.qnet(obs), actions, axis=1, batch_dims=1).numpy()
    np.testing.assert_allclose(q, 1.0, atol=0.2)


def test_same_seed_same_result_and_logs(tmp_path):
    first = qlearning.train(TINY, str(tmp_path / "tb"))
    second = qlearning.train(TINY)
    assert first.history == second.history and first.env_steps == second.env_steps == 800
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())
    assert first.best_return == max(mean for _, mean in first.history)


def test_stops_at_target():
    params = dataclasses.replace(TINY, eval_episodes=20, target_return=5.0)
    result = qlearning.train(params)
    assert result.steps_to_target == result.env_steps == 400


def test_train_policy_reads_the_trainer_config():
    assert TrainerConfig().params(cartpole_qnet.HParams()) == qlearning.QLearningParams()
    hparams = {"num_envs": 4, "hidden": "16", "eval_every": 200, "eval_episodes": 3}
    config = TrainerConfig(env_id="CartPole-v1", train_steps=400, hparams=hparams)
    result = cartpole_qnet.train_policy(config, None, None)
    assert result.env_steps == 400 and result.outputs == "q_values"
    assert [step for step, _ in result.history] == [200, 400]
