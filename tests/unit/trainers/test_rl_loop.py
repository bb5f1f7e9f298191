"""The shared RL loop on a scripted agent: eval points, best weights, early stop, eval seeds."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from components.policy_evaluator import PolicyEvaluator
from trainers.rl import dqn, loop, monitor, qlearning, qnet
from trainers.rl.schedules import linear_schedule

GOOD = [np.array([[0, 0], [0, 0], [0, 1], [0, 1]], np.float32), np.zeros(2, np.float32)]
BAD = [np.zeros((4, 2), np.float32), np.array([1, 0], np.float32)]  # always pushes left


class ScriptedAgent:
    """Sets its linear policy's weights by step: GOOD (push where the pole falls) or BAD."""

    def __init__(self, good_steps=(), losses_every: int = 0):
        self.model = qnet.build_qnet(4, 2, (), seed=0)
        self.model.set_weights(BAD)
        self.good_steps, self.losses_every = set(good_steps), losses_every
        self.seen: list[tuple[int, loop.Transitions]] = []

    def greedy(self, observations):
        kernel, bias = self.model.get_weights()
        return (observations @ kernel + bias).argmax(axis=1)

    def act(self, observations, epsilon, rng):
        return loop.epsilon_greedy(self.greedy, observations, 0.0, 2, rng)

    def observe(self, batch, step, rng):
        self.seen.append((step, batch))
        self.model.set_weights(GOOD if step in self.good_steps else BAD)
        if self.losses_every and step % self.losses_every == 0:
            return {"td_loss": float(step), "q_values": 1.0}
        return None


PARAMS = loop.LoopParams(total_timesteps=80, num_envs=2, eval_every=20, eval_episodes=5)


def _run(agent, params=PARAMS, **kwargs):
    return loop.run(params, lambda obs_shape, n_actions: agent, **kwargs)


def test_eval_points_and_the_final_evaluation():
    odd = dataclasses.replace(PARAMS, num_envs=3, eval_every=10, total_timesteps=50)
    assert [s for s, _ in _run(ScriptedAgent(), odd).history] == [12, 21, 30, 42, 51]
    short = dataclasses.replace(odd, total_timesteps=45)  # the last step is not an eval point
    result = _run(ScriptedAgent(), short)
    assert [s for s, _ in result.history] == [12, 21, 30, 42, 45] and result.env_steps == 45


def test_best_weights_are_restored():
    agent = ScriptedAgent(good_steps={40})
    result = _run(agent)
    bad, good = result.history[0][1], result.history[1][1]
    assert [s for s, _ in result.history] == [20, 40, 60, 80]
    assert good > 2 * bad and result.best_step == 40 and result.best_return == good
    for saved, expected in zip(result.model.get_weights(), GOOD, strict=True):
        np.testing.assert_array_equal(saved, expected)
    assert result.model is agent.model and result.outputs == "q_values"
    assert result.steps_to_target is None


def test_stops_early_when_an_evaluation_meets_the_target():
    params = dataclasses.replace(PARAMS, eval_episodes=20, target_return=5.0)
    agent = ScriptedAgent()
    result = _run(agent, params)
    assert result.steps_to_target == result.env_steps == 20 and len(result.history) == 1
    assert [step for step, _ in agent.seen] == list(range(2, 21, 2))


def test_too_few_episodes_never_stop_training():
    params = dataclasses.replace(PARAMS, eval_episodes=monitor.MIN_STOP_EPISODES - 1)
    assert _run(ScriptedAgent(), dataclasses.replace(params, target_return=5.0)).env_steps == 80


def test_evaluations_use_the_eval_seed_never_the_final_evaluations(monkeypatch):
    calls = []
    real = monitor.envs_lib.evaluate

    def recording(policy, env_id, episodes, seed):
        calls.append((episodes, seed))
        return real(policy, env_id, episodes, seed)

    monkeypatch.setattr(monitor.envs_lib, "evaluate", recording)
    _run(ScriptedAgent(), dataclasses.replace(PARAMS, eval_seed=123))
    assert calls == [(5, 123)] * 4
    defaults = PolicyEvaluator.EXECUTOR_SPEC.executor_class._ARG_DEFAULTS
    assert defaults["seed"] == monitor.FINAL_EVAL_SEED
    final = set(range(monitor.FINAL_EVAL_SEED, monitor.FINAL_EVAL_SEED + defaults["episodes"]))
    for params in (dqn.DQNParams(), qlearning.QLearningParams()):
        assert not final & set(range(params.eval_seed, params.eval_seed + params.eval_episodes))


def test_transitions_carry_the_true_final_observation():
    agent = ScriptedAgent()
    _run(agent, dataclasses.replace(PARAMS, total_timesteps=60))  # BAD episodes last ~10 steps
    ended_somewhere = False
    for (step, batch), (_, after) in zip(agent.seen, agent.seen[1:], strict=False):
        assert batch.actions.shape == (2,) and step % 2 == 0
        done = batch.terminated | batch.truncated
        np.testing.assert_array_equal(batch.next_observations[~done], after.observations[~done])
        for i in np.flatnonzero(done):  # the next episode starts from a fresh reset
            ended_somewhere = True
            assert abs(batch.next_observations[i, 2]) > 0.2  # the pole had fallen
            assert np.abs(after.observations[i]).max() <= 0.05
    assert ended_somewhere


def _scalars(log_dir) -> dict[str, list[int]]:
    steps = {}
    for path in tf.io.gfile.glob(f"{log_dir}/events.out.tfevents*"):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
    return steps


def test_losses_are_logged_when_returned_or_every_log_every_steps(tmp_path):
    _run(ScriptedAgent(losses_every=8), log_dir=str(tmp_path / "each"))
    each = _scalars(tmp_path / "each")
    assert each["losses/td_loss"] == each["charts/SPS"] == [8, 16, 24, 32, 40, 48, 56, 64, 72, 80]
    assert each["losses/q_values"] == each["losses/td_loss"]
    assert each["eval/mean_return"] == each["eval/std_return"] == [20, 40, 60, 80]
    assert len(each["charts/episodic_return"]) == len(each["charts/epsilon"]) > 0
    _run(ScriptedAgent(losses_every=2), log_dir=str(tmp_path / "every"), log_every=30)
    assert _scalars(tmp_path / "every")["losses/td_loss"] == [30, 60]


def test_epsilon_greedy_draws_the_same_randomness_whatever_epsilon():
    obs = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    calls = []

    def greedy(batch):
        calls.append(batch.shape)
        return np.ones(len(batch), np.int64)

    states = []
    for epsilon in (0.0, 0.5, 1.0):
        rng = np.random.default_rng(1)
        actions = loop.epsilon_greedy(greedy, obs, epsilon, 3, rng)
        states.append(rng.bit_generator.state["state"]["state"])
        if epsilon == 0.0:
            np.testing.assert_array_equal(actions, np.ones(6))
    assert len(set(states)) == 1
    assert calls == [(6, 4), (6, 4)]  # all rows explore at ε = 1: no network call


@pytest.mark.parametrize("step", [0, 100, 159, 160, 10_000])
def test_loop_params_epsilon_is_the_linear_schedule(step):
    p = loop.LoopParams(total_timesteps=1_000, start_e=1.0, end_e=0.1, exploration_fraction=0.16)
    assert p.epsilon(step) == linear_schedule(1.0, 0.1, 160.0, step)
