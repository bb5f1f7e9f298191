import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from trainers.cartpole_dqn import model as cartpole_dqn
from trainers.contract import TrainerConfig
from trainers.rl import dqn, envs, export, losses, qnet, replay
from trainers.rl.schedules import linear_schedule

OBS = (4,)


def _add(buffer, start, n, terminated=None, truncated=None):
    obs = np.arange(start, start + n, dtype=np.float32)[:, None].repeat(4, axis=1)
    terminated = np.zeros(n, bool) if terminated is None else np.asarray(terminated)
    buffer.add(obs, obs + 0.5, np.arange(n) % 2, np.ones(n), terminated, truncated)


def test_replay_wraps_around_and_overwrites_oldest():
    buffer = replay.ReplayBuffer(5, OBS)
    _add(buffer, 0, 3)
    assert len(buffer) == 3 and not buffer.full
    _add(buffer, 3, 3)  # the 6th transition overwrites the 1st
    assert len(buffer) == 5 and buffer.full and buffer.pos == 1
    np.testing.assert_array_equal(buffer.observations[:, 0], [5, 1, 2, 3, 4])
    np.testing.assert_array_equal(buffer.next_observations[:, 0], [5.5, 1.5, 2.5, 3.5, 4.5])


def test_replay_batch_larger_than_capacity_keeps_newest():
    buffer = replay.ReplayBuffer(4, OBS)
    _add(buffer, 0, 6)
    assert len(buffer) == 4
    assert sorted(buffer.observations[:, 0]) == [2, 3, 4, 5]


def test_replay_sample_shapes_and_reproducible():
    buffer = replay.ReplayBuffer(100, OBS)
    _add(buffer, 0, 30)
    batch = buffer.sample(16, np.random.default_rng(7))
    assert batch.observations.shape == (16, 4) and batch.observations.dtype == np.float32
    assert batch.next_observations.shape == (16, 4)
    assert batch.actions.shape == batch.rewards.shape == batch.dones.shape == (16,)
    assert batch.actions.dtype == np.int64
    assert set(batch.observations[:, 0]) <= set(range(30))  # only stored rows
    np.testing.assert_array_equal(batch.next_observations, batch.observations + 0.5)
    again = buffer.sample(16, np.random.default_rng(7))
    np.testing.assert_array_equal(batch.observations, again.observations)


def test_replay_empty_sample_raises():
    with pytest.raises(ValueError, match="empty"):
        replay.ReplayBuffer(3, OBS).sample(1, np.random.default_rng(0))


def test_replay_truncation_is_not_done():
    buffer = replay.ReplayBuffer(10, OBS)
    _add(buffer, 0, 3, terminated=[True, False, False], truncated=[False, True, False])
    np.testing.assert_array_equal(buffer.dones[:3], [1.0, 0.0, 0.0])


@pytest.mark.parametrize(
    ("t", "expected"), [(0, 1.0), (50, 0.525), (100, 0.05), (100, 0.05), (1e6, 0.05)]
)
def test_linear_schedule(t, expected):
    assert linear_schedule(1.0, 0.05, 100, t) == pytest.approx(expected)


def test_linear_schedule_increasing_and_zero_duration():
    assert linear_schedule(0.0, 1.0, 10, 5) == pytest.approx(0.5)
    assert linear_schedule(0.0, 1.0, 10, 50) == 1.0
    assert linear_schedule(1.0, 0.1, 0, 0) == 0.1


def test_sync_target_copies_and_averages():
    online, target = qnet.build_qnet(4, 2, (8,), seed=1), qnet.build_qnet(4, 2, (8,), seed=2)
    before = target.get_weights()
    assert not np.allclose(online.get_weights()[0], before[0])
    dqn.sync_target(target.variables, online.variables, tau=0.5)
    for mid, a, b in zip(target.get_weights(), online.get_weights(), before, strict=True):
        np.testing.assert_allclose(mid, 0.5 * a + 0.5 * b, rtol=1e-6)
    dqn.sync_target(target.variables, online.variables)
    for a, b in zip(target.get_weights(), online.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_double_dqn_targets_by_hand():
    rewards, dones, gamma = [1.0, 1.0, 0.0], [0.0, 1.0, 0.0], 0.5
    next_q_target = [[1.0, 5.0], [3.0, 2.0], [4.0, -2.0]]
    next_q_online = [[2.0, 1.0], [0.0, 4.0], [0.0, 1.0]]  # picks actions 0, 1, 1
    vanilla = dqn.td_targets(rewards, dones, gamma, next_q_target)
    double = dqn.td_targets(rewards, dones, gamma, next_q_target, next_q_online)
    np.testing.assert_allclose(vanilla, [1 + 0.5 * 5, 1.0, 0.5 * 4])
    np.testing.assert_allclose(double, [1 + 0.5 * 1, 1.0, 0.5 * -2])


def test_td_loss_huber_and_squared_by_hand():
    q, target = tf.constant([0.0, 0.0, 0.0]), tf.Variable([0.5, 2.0, -3.0])
    with tf.GradientTape(persistent=True) as tape:
        huber = losses.td_loss(q, target, huber=True)
        squared = losses.td_loss(q, target, huber=False)
    assert float(huber) == pytest.approx((0.125 + 1.5 + 2.5) / 3)
    assert float(squared) == pytest.approx((0.25 + 4 + 9) / 3)
    assert tape.gradient(squared, target) is None  # targets are constants


@pytest.mark.parametrize(("max_norm", "step"), [(1.0, [0.6, 0.8]), (0.0, [3.0, 4.0])])
def test_clipped_step_clips_the_global_norm(max_norm, step):
    variable = tf.Variable([1.0, 1.0])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(variable * [3.0, 4.0])  # gradient [3, 4], norm 5
    losses.clipped_step(tape, loss, [variable], tf.keras.optimizers.SGD(1.0), max_norm)
    np.testing.assert_allclose(variable.numpy(), 1.0 - np.array(step), rtol=1e-6)


def _angle_policy(obs):
    return (obs[:, 2] + obs[:, 3] > 0).astype(np.int64)  # push towards where the pole falls


def test_evaluate_is_deterministic_and_seed_indexed():
    first = envs.evaluate(_angle_policy, "CartPole-v1", 5, seed=123)
    assert first.shape == (5,) and first.dtype == np.float64
    np.testing.assert_array_equal(first, envs.evaluate(_angle_policy, "CartPole-v1", 5, 123))
    np.testing.assert_array_equal(first[1:3], envs.evaluate(_angle_policy, "CartPole-v1", 2, 124))
    always_left = envs.evaluate(lambda o: np.zeros(len(o), np.int64), "CartPole-v1", 5, 123)
    assert np.all(always_left < 20) and first.mean() > always_left.mean()


def test_make_env_rejects_continuous_actions():
    with pytest.raises(ValueError, match="Discrete"):
        envs.make_env("Pendulum-v1", 0)


def test_save_and_load_policy_round_trip(tmp_path):
    model = qnet.build_qnet(4, 3, (16,), seed=3)
    export.save_policy(model, str(tmp_path / "policy"), obs_dim=4)
    obs = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    q = model(obs).numpy()
    policy = export.load_policy(str(tmp_path / "policy"))
    actions = policy(obs)
    assert actions.dtype == np.int64
    np.testing.assert_array_equal(actions, q.argmax(axis=1))
    serve = tf.saved_model.load(str(tmp_path / "policy")).signatures["serving_default"]
    (spec,) = serve.structured_input_signature[1].values()
    assert spec.name == "observations" and spec.dtype == tf.float32
    assert spec.shape.as_list() == [None, 4]
    out = serve(observations=tf.constant(obs))
    assert out["action"].dtype == tf.int64 and out["q_values"].shape == (32, 3)
    np.testing.assert_allclose(out["q_values"].numpy(), q, rtol=1e-5, atol=1e-6)
    for saved, original in zip(
        export.load_weights(str(tmp_path / "policy")), model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(saved, original)


def test_save_policy_takes_obs_dim_from_env_id(tmp_path):
    export.save_policy(qnet.build_qnet(4, 2, (8,)), str(tmp_path / "p"), "CartPole-v1")
    assert export.load_policy(str(tmp_path / "p"))(np.zeros((2, 4))).shape == (2,)


TINY = dqn.DQNParams(
    total_timesteps=1_600, num_envs=2, hidden=(32, 32), learning_starts=400, train_frequency=200,
    gradient_steps=20, target_network_frequency=20, eval_every=800, eval_episodes=3,
)  # fmt: skip


def test_same_seed_same_result(tmp_path):
    first = dqn.train(TINY, str(tmp_path / "tb"))
    second = dqn.train(TINY)
    assert first.history == second.history and first.env_steps == second.env_steps == 1_600
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert first.steps_to_target is None  # 3 evaluation episodes never stop training
    summary = json.loads(json.dumps(first.summary))
    assert summary["env_steps"] == 1_600 and "model" not in summary
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tb").iterdir())


def test_stops_early_at_target():
    params = dataclasses.replace(TINY, eval_every=400, eval_episodes=20, target_return=5.0)
    result = dqn.train(params)
    assert result.steps_to_target == result.env_steps == 400
    assert result.history == [(400, result.best_return)]


def test_dqn_improves_on_a_tiny_budget():
    params = dqn.DQNParams(
        total_timesteps=6_000, hidden=(64, 64), learning_starts=500, train_frequency=100,
        gradient_steps=50, target_network_frequency=50, exploration_fraction=0.3,
        eval_every=1_000, eval_episodes=10, seed=1,
    )  # fmt: skip
    untrained = qnet.build_qnet(4, 2, params.hidden, params.seed)

    def greedy(model):
        return lambda obs: model(obs).numpy().argmax(axis=1)

    before = envs.evaluate(greedy(untrained), params.env_id, 20, 10_000).mean()
    result = dqn.train(params)
    after = envs.evaluate(greedy(result.model), params.env_id, 20, 10_000).mean()
    assert after >= 2 * before and after > 50, (before, after, result.history)


SMALL = {
    "num_envs": 2, "hidden": "16", "learning_starts": 100, "train_frequency": 100,
    "gradient_steps": 5, "eval_every": 200, "eval_episodes": 3,
}  # fmt: skip


def test_train_policy_reads_the_trainer_config(tmp_path):
    assert TrainerConfig().params(cartpole_dqn.HParams()) == dqn.DQNParams()  # None: defaults
    config = TrainerConfig(env_id="CartPole-v1", train_steps=400, hparams=SMALL)
    result = cartpole_dqn.train_policy(config, str(tmp_path / "tb"), None)
    assert result.env_steps == 400 and result.env_id == "CartPole-v1"
    assert result.outputs == "q_values" and result.model.layers[1].units == 16
    set_budget = TrainerConfig(train_steps=400, hparams={**SMALL, "total_timesteps": 200})
    assert cartpole_dqn.train_policy(set_budget, None, None).env_steps == 200  # --set wins
    export.save_policy(result.model, str(tmp_path / "base"))
    no_updates = TrainerConfig(train_steps=200, hparams={**SMALL, "learning_starts": 10_000})
    warm = cartpole_dqn.train_policy(no_updates, None, str(tmp_path / "base"))
    for a, b in zip(warm.model.get_weights(), result.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # warm-started, then never updated
