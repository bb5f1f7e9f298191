"""Online Q-learning with a Q-network: the course's version, no replay buffer, no target net.

Each environment step updates the network once on the transitions just collected, with the
TD target `r + γ max_a Q(s', a)` computed by the same network (semi-gradient Q-learning).
Several environments stepped in lock-step give each update a few decorrelated transitions;
with `num_envs=1` it is the textbook one-transition update. Without replay the network
forgets and oscillates, so the trainer keeps the weights of the best periodic greedy
evaluation (`monitor.Evaluations`) rather than the last ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np
import tensorflow as tf

from trainers.rl import envs as envs_lib
from trainers.rl.dqn import td_targets
from trainers.rl.monitor import (
    EpisodeStats,
    EvalParams,
    Evaluations,
    TrainResult,
    seed_everything,
)
from trainers.rl.qnet import build_qnet
from trainers.rl.schedules import linear_schedule


@dataclasses.dataclass(frozen=True)
class QLearningParams(EvalParams):
    """Online Q-learning hyper-parameters (defaults measured on CartPole-v1, see BENCHMARKS)."""

    total_timesteps: int = 100_000
    """Budget of environment steps (transitions, summed over the environments)."""
    num_envs: int = 32
    """Environments stepped in lock-step; each update uses their `num_envs` transitions (with
    8, consecutive correlated updates drove every greedy action to one side on CartPole)."""
    learning_rate: float = 1e-3
    """Adam's learning rate."""
    gamma: float = 0.99
    """Discount factor."""
    start_e: float = 1.0
    """Exploration probability ε at the start."""
    end_e: float = 0.05
    """Final ε, reached after `exploration_fraction * total_timesteps` steps."""
    exploration_fraction: float = 0.2
    """Fraction of `total_timesteps` over which ε decays linearly."""
    huber: bool = False
    """Huber (smooth L1, δ = 1) TD loss; False for the squared error (which learned on
    CartPole where Huber stayed at ~9 on every setting tried)."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global norm (0 disables clipping)."""
    hidden: tuple[int, ...] = (64, 64)
    """Widths of the Q-network's hidden layers."""
    eval_every: int = 2_000
    """Environment steps between greedy evaluations (online learning needs fewer of them)."""
    eval_episodes: int = 20
    """Episodes per evaluation (a third of the run's time at 50)."""
    target_return: float = 500.0
    """Evaluation return that stops training early (CartPole-v1's maximum: an oscillating
    learner should keep going until it is perfect)."""


class OnlineLearner(tf.Module):
    """One Q-network, its optimizer and the compiled acting and update steps."""

    def __init__(self, obs_dim: int, n_actions: int, params: QLearningParams):
        """Builds the network and the tf.functions (traced on first call)."""
        super().__init__(name="online_q_learner")
        self.params = params
        self.qnet = build_qnet(obs_dim, n_actions, params.hidden, params.seed)
        self.optimizer = tf.keras.optimizers.Adam(params.learning_rate)
        obs = tf.TensorSpec([None, obs_dim], tf.float32)
        batch = [tf.TensorSpec([None], t) for t in (tf.int64, tf.float32, tf.float32)]
        # autograph=False: nothing here needs it, and it would transpile tf_keras on each trace.
        self.greedy = tf.function(self._greedy, input_signature=[obs], autograph=False)
        self.update = tf.function(
            self._update, input_signature=[obs, batch[0], obs, *batch[1:]], autograph=False
        )

    def _greedy(self, observations):
        return tf.argmax(self.qnet(observations), axis=1)

    def _update(self, obs, actions, next_obs, rewards, dones):
        """One gradient step on the given transitions; returns the TD loss."""
        p = self.params
        target = tf.stop_gradient(td_targets(rewards, dones, p.gamma, self.qnet(next_obs)))
        with tf.GradientTape() as tape:
            q = tf.gather(self.qnet(obs), actions, axis=1, batch_dims=1)
            error = target - q
            if p.huber:
                abs_error = tf.abs(error)
                loss = tf.reduce_mean(tf.where(abs_error < 1.0, 0.5 * error**2, abs_error - 0.5))
            else:
                loss = tf.reduce_mean(error**2)
        variables = self.qnet.trainable_variables
        grads = tape.gradient(loss, variables)
        if p.max_grad_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, p.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        return loss


def train(params: QLearningParams, log_dir: str | None = None, initial_weights=None) -> TrainResult:
    """Trains a Q-network online on `params.env_id`; the same params give the same result.

    Args:
        params: Hyper-parameters.
        log_dir: TensorBoard log directory (None: no logs).
        initial_weights: Optional `model.get_weights()` of a same-shaped network (warm start).

    Returns:
        The best network by greedy evaluation, with the training record.

    """
    p = params
    start = time.monotonic()
    seed_everything(p.seed)
    rng = np.random.default_rng(p.seed)
    obs_shape, n_actions = envs_lib.env_spec(p.env_id)
    learner = OnlineLearner(int(np.prod(obs_shape)), n_actions, p)
    if initial_weights is not None:
        learner.qnet.set_weights(initial_weights)
    writer = tf.summary.create_file_writer(log_dir) if log_dir else tf.summary.create_noop_writer()
    evals = Evaluations(p, learner.qnet, lambda obs: learner.greedy(obs).numpy())
    episodes = EpisodeStats(p.num_envs)
    step, next_eval, losses = 0, p.eval_every, []
    vec_env = envs_lib.make_vec_env(p.env_id, p.num_envs, p.seed)
    with writer.as_default(), contextlib.closing(vec_env) as envs:
        obs, _ = envs.reset(seed=p.seed)
        while step < p.total_timesteps and not evals.reached:
            epsilon = linear_schedule(
                p.start_e, p.end_e, p.exploration_fraction * p.total_timesteps, step
            )
            flat = np.asarray(obs, np.float32).reshape(p.num_envs, -1)
            greedy = learner.greedy(flat).numpy()
            explore = rng.random(p.num_envs) < epsilon
            actions = np.where(explore, rng.integers(0, n_actions, p.num_envs), greedy)
            next_obs, rewards, terminated, truncated, infos = envs.step(actions)
            ended = np.flatnonzero(terminated | truncated)
            real_next = np.asarray(next_obs, np.float32).reshape(p.num_envs, -1).copy()
            for i in ended:  # same-step autoreset: bootstrap from the true final observation
                real_next[i] = np.asarray(infos["final_obs"][i], np.float32).reshape(-1)
            losses.append(
                learner.update(
                    flat,
                    actions.astype(np.int64),
                    real_next,
                    rewards.astype(np.float32),
                    terminated.astype(np.float32),
                )
            )
            obs = next_obs
            step += p.num_envs
            episodes.update(rewards, ended, epsilon, step)
            if step >= next_eval:
                next_eval += p.eval_every
                tf.summary.scalar("losses/td_loss", float(np.mean(losses)), step=step)
                tf.summary.scalar("charts/SPS", step / (time.monotonic() - start), step=step)
                losses = []
                evals.run(step)
        if not evals.history or evals.history[-1][0] != step:
            evals.run(step)
    writer.close()
    return evals.result(p.env_id, step, time.monotonic() - start)
