"""Deep Q-Network (Mnih et al. 2015) with Double DQN, in the style of CleanRL's dqn.py.

One frozen dataclass holds every hyper-parameter; `train(params, log_dir)` plugs a `DQNAgent`
into `loop.run`: ε-greedy interaction with vectorised environments, learning from a replay
buffer with a target network in training phases, periodic greedy evaluation on fixed seeds
keeping the best weights (like Stable-Baselines3's EvalCallback), stopping once an evaluation
reaches the target return. TensorBoard scalars: charts/episodic_return, charts/episodic_length,
charts/epsilon, charts/SPS, losses/td_loss, losses/q_values, eval/mean_return, eval/std_return.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from trainers.rl import loop
from trainers.rl.losses import clipped_step, td_loss, td_targets
from trainers.rl.monitor import TrainResult
from trainers.rl.qnet import build_qnet
from trainers.rl.replay import ReplayBuffer


@dataclasses.dataclass(frozen=True)
class DQNParams(loop.LoopParams):
    """DQN hyper-parameters.

    The defaults are rl-zoo's CartPole-v1 DQN with γ = 0.98, twice the gradient steps, a
    target sync every 64 of them, Double DQN and evaluation-based stopping; they reached a mean
    greedy return >= 475 on 100 held-out episodes within 50k steps on each of 32 seeds.
    The step budget, environment count and ε schedule are `loop.LoopParams`' (DQN's defaults).
    """

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
            loss = td_loss(q, target, p.huber)
        clipped_step(tape, loss, self.online.trainable_variables, self.optimizer, p.max_grad_norm)
        self.updates.assign_add(1)

        def sync():
            sync_target(self.target.variables, self.online.variables, p.tau)
            return tf.constant(True)

        due = tf.equal(self.updates % p.target_network_frequency, 0)
        tf.cond(due, sync, lambda: tf.constant(False))
        return loss, tf.reduce_mean(q)

    def _update(self, obs, actions, next_obs, rewards, dones):
        """`len(obs)` gradient steps, step g on batch `obs[g]`, ...; mean `td_loss`, `q_values`."""
        n = tf.shape(obs)[0]

        def body(g, total_loss, total_q):
            loss, q = self._gradient_step(obs[g], actions[g], next_obs[g], rewards[g], dones[g])
            return g + 1, total_loss + loss, total_q + q

        zero = tf.constant(0.0)
        _, loss, q = tf.while_loop(lambda g, *_: g < n, body, (tf.constant(0), zero, zero))
        n = tf.cast(n, tf.float32)
        return {"td_loss": loss / n, "q_values": q / n}


class DQNAgent:
    """DQN as a `loop.Agent`: ε-greedy acting, a replay buffer and periodic training phases.

    After `learning_starts` steps, every `train_frequency` steps it samples
    `gradient_steps * batch_size` transitions at once (one `rng` draw) and runs the phase's
    `gradient_steps` updates in one compiled call.
    """

    def __init__(self, obs_shape, n_actions: int, params: DQNParams, initial_weights=None):
        """Builds the learner (warm-started from `initial_weights` if given) and the buffer."""
        self.params, self.n_actions = params, n_actions
        self.learner = Learner(int(np.prod(obs_shape)), n_actions, params)
        if initial_weights is not None:
            self.learner.online.set_weights(initial_weights)
            self.learner.target.set_weights(initial_weights)
        self.model = self.learner.online
        self.buffer = ReplayBuffer(params.buffer_size, obs_shape)
        self.since_train = 0

    def greedy(self, observations) -> np.ndarray:
        """The online network's argmax actions."""
        return self.learner.greedy(observations).numpy()

    def act(self, observations, epsilon: float, rng) -> np.ndarray:
        """ε-greedy actions (see `loop.epsilon_greedy`)."""
        return loop.epsilon_greedy(self.greedy, observations, epsilon, self.n_actions, rng)

    def observe(self, batch: loop.Transitions, step: int, rng) -> dict | None:
        """Stores the transitions; runs a training phase when one is due."""
        p = self.params
        self.buffer.add(
            batch.observations, batch.next_observations, batch.actions, batch.rewards,
            batch.terminated, batch.truncated,
        )  # fmt: skip
        self.since_train += len(batch.actions)
        if step < p.learning_starts or self.since_train < p.train_frequency:
            return None
        self.since_train = 0
        sample = self.buffer.sample(p.gradient_steps * p.batch_size, rng)
        shape = (p.gradient_steps, p.batch_size)
        out = self.learner.update(
            sample.observations.reshape(*shape, -1),
            sample.actions.reshape(shape),
            sample.next_observations.reshape(*shape, -1),
            sample.rewards.reshape(shape),
            sample.dones.reshape(shape),
        )
        return {name: value.numpy() for name, value in out.items()}


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

    def make_agent(obs_shape, n_actions):
        return DQNAgent(obs_shape, n_actions, params, initial_weights)

    return loop.run(params, make_agent, log_dir)
