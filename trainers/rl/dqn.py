"""Deep Q-Network (Mnih et al. 2015) with Double DQN, in the style of CleanRL's dqn.py.

One frozen dataclass holds every hyper-parameter; `train(params, log_dir)` runs ε-greedy
interaction with vectorised environments, learns from a replay buffer with a target network,
evaluates the greedy policy periodically on fixed seeds, keeps the best weights (like
Stable-Baselines3's EvalCallback) and stops once an evaluation reaches the target return.
TensorBoard scalars: charts/episodic_return, charts/episodic_length, charts/epsilon,
charts/SPS, losses/td_loss, losses/q_values, eval/mean_return, eval/std_return.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np
import tensorflow as tf

from trainers.rl import envs as envs_lib
from trainers.rl.monitor import (
    EpisodeStats,
    EvalParams,
    Evaluations,
    TrainResult,
    seed_everything,
)
from trainers.rl.qnet import build_qnet
from trainers.rl.replay import ReplayBuffer
from trainers.rl.schedules import linear_schedule


@dataclasses.dataclass(frozen=True)
class DQNParams(EvalParams):
    """DQN hyper-parameters.

    The defaults are rl-zoo's CartPole-v1 DQN with γ = 0.98, twice the gradient steps, a
    target sync every 64 of them, Double DQN and evaluation-based stopping; they reached a mean
    greedy return >= 475 on 100 held-out episodes within 50k steps on each of 32 seeds.
    """

    total_timesteps: int = 50_000
    """Budget of environment steps (transitions, summed over the vectorised environments)."""
    num_envs: int = 4
    """Environments stepped in lock-step; sub-environment i is seeded with `seed + i`."""
    learning_rate: float = 2.3e-3
    """Adam's learning rate."""
    buffer_size: int = 100_000
    """Replay buffer capacity in transitions."""
    gamma: float = 0.98
    """Discount factor (rl-zoo's 0.99 propagated values too slowly and stalled some seeds)."""
    tau: float = 1.0
    """Target network update rate: 1.0 copies the online weights, less is Polyak averaging."""
    target_network_frequency: int = 64
    """Gradient steps between target network updates (rl-zoo syncs once per training phase)."""
    batch_size: int = 64
    """Transitions per gradient step."""
    start_e: float = 1.0
    """Exploration probability ε at the start."""
    end_e: float = 0.04
    """Final ε, reached after `exploration_fraction * total_timesteps` steps."""
    exploration_fraction: float = 0.16
    """Fraction of `total_timesteps` over which ε decays linearly."""
    learning_starts: int = 1_000
    """Environment steps of pure collection before the first gradient step."""
    train_frequency: int = 256
    """Environment steps between training phases."""
    gradient_steps: int = 256
    """Gradient steps per training phase (one per environment step, twice rl-zoo's)."""
    double_dqn: bool = True
    """Double DQN: the online network picks the next action, the target network values it."""
    huber: bool = True
    """Huber (smooth L1, δ = 1) TD loss; False for the squared error."""
    max_grad_norm: float = 10.0
    """Gradients are clipped to this global norm (0 disables clipping)."""
    hidden: tuple[int, ...] = (256, 256)
    """Widths of the Q-network's hidden layers."""


def td_targets(rewards, dones, gamma: float, next_q_target, next_q_online=None) -> tf.Tensor:
    """One-step TD targets `r + γ (1 - done) Q'(s', a*)`.

    Args:
        rewards: Rewards [batch].
        dones: 1.0 where the episode terminated (truncation is not a `done`) [batch].
        gamma: Discount factor.
        next_q_target: Target network's Q-values of the next observations [batch, actions].
        next_q_online: Online network's Q-values of the next observations, for Double DQN
            (a* = its argmax); None for vanilla DQN (a* = the target network's argmax).

    Returns:
        float32 targets [batch].

    """
    next_q_target = tf.convert_to_tensor(next_q_target, tf.float32)
    if next_q_online is None:
        next_value = tf.reduce_max(next_q_target, axis=1)
    else:
        best = tf.argmax(next_q_online, axis=1, output_type=tf.int32)
        next_value = tf.gather(next_q_target, best, axis=1, batch_dims=1)
    rewards = tf.cast(rewards, tf.float32)
    return rewards + gamma * (1.0 - tf.cast(dones, tf.float32)) * next_value


def sync_target(target_vars, online_vars, tau: float = 1.0) -> None:
    """Moves each target variable towards its online twin: τ·online + (1 − τ)·target.

    τ = 1 copies the online weights (a hard update).
    """
    for target, online in zip(target_vars, online_vars, strict=True):
        target.assign(online if tau >= 1.0 else tau * online + (1.0 - tau) * target)


class Learner(tf.Module):
    """Online and target Q-networks, the optimizer and the compiled acting and update steps."""

    def __init__(self, obs_dim: int, n_actions: int, params: DQNParams):
        """Builds both networks (target = copy of online) and traces nothing yet."""
        super().__init__(name="dqn_learner")
        self.params = params
        self.online = build_qnet(obs_dim, n_actions, params.hidden, params.seed)
        self.target = build_qnet(obs_dim, n_actions, params.hidden, params.seed)
        self.target.set_weights(self.online.get_weights())
        self.optimizer = tf.keras.optimizers.Adam(params.learning_rate)
        self.updates = tf.Variable(0, dtype=tf.int64, trainable=False, name="updates")
        obs = tf.TensorSpec([None, obs_dim], tf.float32)
        # autograph=False: nothing here needs it, and it would transpile tf_keras on each trace.
        self.greedy = tf.function(self._greedy, input_signature=[obs], autograph=False)
        many_obs = tf.TensorSpec([None, None, obs_dim], tf.float32)  # [steps, batch, obs_dim]
        many = [tf.TensorSpec([None, None], t) for t in (tf.int64, tf.float32, tf.float32)]
        self.update = tf.function(
            self._update,
            input_signature=[many_obs, many[0], many_obs, *many[1:]],
            autograph=False,
        )

    def _greedy(self, observations):
        return tf.argmax(self.online(observations), axis=1)

    def _gradient_step(self, obs, actions, next_obs, rewards, dones):
        p = self.params
        next_online = self.online(next_obs) if p.double_dqn else None
        target = td_targets(rewards, dones, p.gamma, self.target(next_obs), next_online)
        with tf.GradientTape() as tape:
            q = tf.gather(self.online(obs), actions, axis=1, batch_dims=1)
            error = tf.stop_gradient(target) - q
            if p.huber:
                abs_error = tf.abs(error)
                loss = tf.reduce_mean(tf.where(abs_error < 1.0, 0.5 * error**2, abs_error - 0.5))
            else:
                loss = tf.reduce_mean(error**2)
        variables = self.online.trainable_variables
        grads = tape.gradient(loss, variables)
        if p.max_grad_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, p.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        self.updates.assign_add(1)

        def sync():
            sync_target(self.target.variables, self.online.variables, p.tau)
            return tf.constant(True)

        due = tf.equal(self.updates % p.target_network_frequency, 0)
        tf.cond(due, sync, lambda: tf.constant(False))
        return loss, tf.reduce_mean(q)

    def _update(self, obs, actions, next_obs, rewards, dones):
        """`len(obs)` gradient steps, step g on batch `obs[g]`, ...; returns mean loss and Q."""
        n = tf.shape(obs)[0]

        def body(g, total_loss, total_q):
            loss, q = self._gradient_step(obs[g], actions[g], next_obs[g], rewards[g], dones[g])
            return g + 1, total_loss + loss, total_q + q

        zero = tf.constant(0.0)
        _, loss, q = tf.while_loop(lambda g, *_: g < n, body, (tf.constant(0), zero, zero))
        n = tf.cast(n, tf.float32)
        return loss / n, q / n


def train(params: DQNParams, log_dir: str | None = None, initial_weights=None) -> TrainResult:
    """Trains a Q-network on `params.env_id`; the same params give the same result.

    Args:
        params: Hyper-parameters.
        log_dir: TensorBoard log directory (None: no logs).
        initial_weights: Optional `model.get_weights()` of a network of the same shape to start
            from (warm start); both online and target networks get them.

    Returns:
        The best network by greedy evaluation, with the training record.

    """
    p = params
    start = time.monotonic()
    seed_everything(p.seed)
    rng = np.random.default_rng(p.seed)
    obs_shape, n_actions = envs_lib.env_spec(p.env_id)
    learner = Learner(int(np.prod(obs_shape)), n_actions, p)
    if initial_weights is not None:
        learner.online.set_weights(initial_weights)
        learner.target.set_weights(initial_weights)
    buffer = ReplayBuffer(p.buffer_size, obs_shape)
    writer = tf.summary.create_file_writer(log_dir) if log_dir else tf.summary.create_noop_writer()
    evals = Evaluations(p, learner.online, lambda obs: learner.greedy(obs).numpy())
    episodes = EpisodeStats(p.num_envs)
    step, since_train, next_eval = 0, 0, p.eval_every
    vec_env = envs_lib.make_vec_env(p.env_id, p.num_envs, p.seed)
    with writer.as_default(), contextlib.closing(vec_env) as envs:
        obs, _ = envs.reset(seed=p.seed)
        while step < p.total_timesteps and not evals.reached:
            duration = p.exploration_fraction * p.total_timesteps
            epsilon = linear_schedule(p.start_e, p.end_e, duration, step)
            actions = _epsilon_greedy(learner, obs, epsilon, n_actions, rng)
            next_obs, rewards, terminated, truncated, infos = envs.step(actions)
            ended = np.flatnonzero(terminated | truncated)
            real_next = next_obs.copy()  # same-step autoreset: next_obs starts new episodes
            for i in ended:
                real_next[i] = infos["final_obs"][i]
            buffer.add(obs, real_next, actions, rewards, terminated, truncated)
            obs = next_obs
            step += p.num_envs
            since_train += p.num_envs
            episodes.update(rewards, ended, epsilon, step)
            if step >= p.learning_starts and since_train >= p.train_frequency:
                since_train = 0
                _train_phase(learner, buffer, p, rng, step)
                tf.summary.scalar("charts/SPS", step / (time.monotonic() - start), step=step)
            if step >= next_eval:
                next_eval += p.eval_every
                evals.run(step)
        if not evals.history or evals.history[-1][0] != step:
            evals.run(step)
    writer.close()
    return evals.result(p.env_id, step, time.monotonic() - start)


def _epsilon_greedy(learner, obs, epsilon, n_actions, rng) -> np.ndarray:
    explore = rng.random(len(obs)) < epsilon
    actions = rng.integers(0, n_actions, size=len(obs))
    if not explore.all():
        greedy = learner.greedy(np.asarray(obs, np.float32).reshape(len(obs), -1)).numpy()
        actions = np.where(explore, actions, greedy)
    return actions


def _train_phase(learner: Learner, buffer: ReplayBuffer, p: DQNParams, rng, step: int) -> None:
    batch = buffer.sample(p.gradient_steps * p.batch_size, rng)
    shape = (p.gradient_steps, p.batch_size)
    loss, q = learner.update(
        batch.observations.reshape(*shape, -1),
        batch.actions.reshape(shape),
        batch.next_observations.reshape(*shape, -1),
        batch.rewards.reshape(shape),
        batch.dones.reshape(shape),
    )
    tf.summary.scalar("losses/td_loss", loss, step=step)
    tf.summary.scalar("losses/q_values", q, step=step)
