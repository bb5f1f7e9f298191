"""Trajectories, returns-to-go, the Decision Transformer and its episodic policy."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from components.trajectory_gen import split_of, stats
from trainers import manifest
from trainers.rl import dt_model, dt_policy, dt_train, envs, export, trajectories

SHAPE = dt_model.DTShape(obs_dim=4, n_actions=2, context=5, max_timestep=500)


def test_returns_to_go_by_hand():
    np.testing.assert_allclose(trajectories.returns_to_go([1, 2, 3]), [6, 5, 3])
    np.testing.assert_allclose(trajectories.returns_to_go([1, 2, 3], gamma=0.5), [2.75, 3.5, 3])
    assert trajectories.returns_to_go([]).shape == (0,)


def _trajectory(length: int, seed: int = 0, epsilon: float = 0.0) -> trajectories.Trajectory:
    rng = np.random.default_rng(seed)
    states = rng.normal(size=(length, 4)).astype(np.float32)
    return trajectories.Trajectory(
        states=states,
        actions=(states[:, 0] > 0).astype(np.int64),  # a rule the DT can learn
        rewards=np.ones(length, np.float32),
        epsilon=epsilon,
    )


def test_trajectory_properties():
    t = _trajectory(4)
    assert len(t) == 4 and t.episode_return == 4.0
    np.testing.assert_array_equal(t.returns_to_go, [4, 3, 2, 1])
    np.testing.assert_array_equal(t.timesteps, [0, 1, 2, 3])


def test_examples_round_trip_through_gzip_tfrecords(tmp_path):
    originals = [_trajectory(7, seed=1, epsilon=0.2), _trajectory(3, seed=2)]
    path = str(tmp_path / "t.tfrecord.gz")
    assert trajectories.write(originals, path) == 2
    loaded = trajectories.load([str(tmp_path / "*.tfrecord.gz")])
    for a, b in zip(originals, loaded, strict=True):
        np.testing.assert_array_equal(a.states, b.states)
        np.testing.assert_array_equal(a.actions, b.actions)
        np.testing.assert_array_equal(a.rewards, b.rewards)
        assert a.epsilon == pytest.approx(b.epsilon)
    example = trajectories.to_example(originals[1]).features.feature
    assert list(example["returns_to_go"].float_list.value) == [3.0, 2.0, 1.0]
    assert list(example["timesteps"].int64_list.value) == [0, 1, 2]
    with pytest.raises(FileNotFoundError, match="nothing"):
        trajectories.load([str(tmp_path / "nothing*")])


def test_rollout_is_seeded_and_mixes_exploration():
    def always_left(obs):
        return np.zeros(len(obs), dtype=np.int64)

    first = trajectories.rollout(always_left, "CartPole-v1", 6, 3, epsilons=(0.0, 1.0))
    again = trajectories.rollout(always_left, "CartPole-v1", 6, 3, epsilons=(0.0, 1.0))
    assert [t.epsilon for t in first] == [0.0, 1.0] * 3
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.actions, b.actions)
    greedy, random = first[0::2], first[1::2]
    assert all(set(t.actions.tolist()) == {0} for t in greedy)
    assert any(set(t.actions.tolist()) == {0, 1} for t in random)
    assert all(t.states.shape == (len(t), 4) for t in first)


def test_split_and_stats_of_trajectory_gen():
    assert [split_of(i, 5) for i in range(6)] == ["eval"] + ["train"] * 4 + ["eval"]
    found = stats([_trajectory(10), _trajectory(20, epsilon=0.5), _trajectory(30, epsilon=0.5)])
    assert found["episodes"] == 3 and found["steps"] == 60
    assert found["mean_return"] == 20.0 and found["min_return"] == 10.0
    assert found["by_epsilon"] == {
        "0": {"episodes": 1, "mean_return": 10.0},
        "0.5": {"episodes": 2, "mean_return": 25.0},
    }


def test_windows_are_left_padded_and_masked():
    short = _trajectory(3)
    inputs, targets, mask = dt_policy.windows([short], 50, SHAPE, 10.0, np.random.default_rng(0))
    assert inputs["states"].shape == (50, 5, 4) and targets.shape == mask.shape == (50, 5)
    for row in range(50):
        real = int(mask[row].sum())
        assert 1 <= real <= 3
        np.testing.assert_array_equal(mask[row], [0] * (5 - real) + [1] * real)
        np.testing.assert_array_equal(inputs["timesteps"][row, 5 - real :], np.arange(real))
        np.testing.assert_array_equal(targets[row, 5 - real :], short.actions[:real])
        expected_rtg = short.returns_to_go[:real] / 10.0
        np.testing.assert_allclose(inputs["returns_to_go"][row, 5 - real :, 0], expected_rtg)
        assert (inputs["actions"][row, : 5 - real] == SHAPE.n_actions).all()  # padding id


def _inputs(batch: int, rng) -> dict:
    k = SHAPE.context
    return {
        "returns_to_go": rng.normal(size=(batch, k, 1)).astype(np.float32),
        "states": rng.normal(size=(batch, k, 4)).astype(np.float32),
        "actions": rng.integers(0, 2, size=(batch, k)),
        "timesteps": np.tile(np.arange(k), (batch, 1)),
        "mask": np.ones((batch, k), np.float32),
    }


def test_decision_transformer_is_causal_and_ignores_padding():
    model = dt_model.build(SHAPE, dim=16, layers=1, heads=2, dropout=0.0)
    base = _inputs(2, np.random.default_rng(0))
    logits = model(base).numpy()
    assert logits.shape == (2, 5, 2)
    later = {k: v.copy() for k, v in base.items()}
    later["states"][:, 3] += 5.0  # a later state must not change earlier predictions
    changed = model(later).numpy()
    np.testing.assert_allclose(changed[:, :3], logits[:, :3], atol=1e-5)
    assert np.abs(changed[:, 3:] - logits[:, 3:]).max() > 1e-3
    padded = {k: v.copy() for k, v in base.items()}
    padded["mask"][:, :2] = 0.0
    noise = {k: v.copy() for k, v in padded.items()}
    noise["states"][:, :2] += 7.0  # what sits in padded steps must not matter
    np.testing.assert_allclose(model(noise).numpy()[:, 2:], model(padded).numpy()[:, 2:], atol=1e-5)


def test_policy_conditions_on_returns_to_go_and_history():
    seen = []

    def predict(batch):
        seen.append({k: v.copy() for k, v in batch.items()})
        return np.tile([[0.0, 1.0]], (len(batch["mask"]), 1))

    policy = dt_policy.DTPolicy(predict, SHAPE, rtg_scale=10.0, target_return=30.0)
    assert isinstance(policy, envs.EpisodicPolicy)
    policy.reset(2)
    first = policy.act([0, 1], np.zeros((2, 4), np.float32))
    np.testing.assert_array_equal(first, [1, 1])
    policy.record([0, 1], first, [1.0, 2.0])
    policy.act([1], np.ones((1, 4), np.float32))
    batch = seen[-1]
    np.testing.assert_allclose(batch["returns_to_go"][0, -2:, 0], [3.0, 2.8])
    np.testing.assert_array_equal(batch["actions"][0, -2:], [1, SHAPE.n_actions])
    np.testing.assert_array_equal(batch["timesteps"][0, -2:], [0, 1])
    np.testing.assert_array_equal(batch["mask"][0], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(batch["states"][0, -1], np.ones(4))


def test_saved_policy_matches_the_model_and_plays(tmp_path):
    model = dt_model.build(SHAPE, dim=16, layers=1, heads=2, dropout=0.0)
    params = dt_policy.DTParams(context=SHAPE.context, target_return=200.0)
    dt_policy.save(model, str(tmp_path / "dt"), SHAPE, params)
    saved = manifest.read(str(tmp_path / "dt"))
    assert saved.kind == manifest.EPISODIC_POLICY and list(saved.features)[-1] == "obs_3"
    policy = export.load_policy(str(tmp_path / "dt"))
    assert isinstance(policy, dt_policy.DTPolicy) and policy.target_return == 200.0
    batch = _inputs(3, np.random.default_rng(1))
    np.testing.assert_allclose(policy.predict(batch), model(batch).numpy()[:, -1], atol=1e-5)
    returns = envs.evaluate(policy, "CartPole-v1", 2, 0)
    np.testing.assert_array_equal(returns, envs.evaluate(policy, "CartPole-v1", 2, 0))
    weights = dt_policy.load_weights(str(tmp_path / "dt"))
    for a, b in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_training_learns_the_action_rule(tmp_path):
    train = [_trajectory(40, seed=s) for s in range(30)]
    val = [_trajectory(40, seed=100 + s) for s in range(5)]
    params = dataclasses.replace(
        dt_policy.DTParams(), context=5, dim=32, layers=1, dropout=0.0, val_windows=256,
        steps_per_epoch=100, learning_rate=2e-3,
    )  # fmt: skip
    model, shape = dt_train.train(train, val, params, 300, str(tmp_path / "logs"))
    assert shape.context == 5 and shape.max_timestep == 500  # CartPole-v1's episode limit
    inputs, targets, mask = dt_policy.windows(val, 256, shape, 100.0, np.random.default_rng(7))
    predicted = model(inputs).numpy().argmax(-1)
    accuracy = float(((predicted == targets) * mask).sum() / mask.sum())
    assert accuracy > 0.9, accuracy
    assert tf.io.gfile.glob(str(tmp_path / "logs" / "train" / "events.out.tfevents*"))
