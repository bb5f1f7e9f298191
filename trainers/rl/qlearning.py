"""Online Q-learning with a Q-network: the course's version, no replay buffer, no target net.

Each environment step updates the network once on the transitions just collected, with the
TD target `r + γ max_a Q(s', a)` computed by the same network (semi-gradient Q-learning).
Several environments stepped in lock-step give each update a few decorrelated transitions;
with `num_envs=1` it is the textbook one-transition update. Without replay the network
forgets and oscillates, so the trainer keeps the weights of the best periodic greedy
evaluation (`monitor.Evaluations`) rather than the last ones. `QLearningAgent` is what
`loop.run` drives; it logs the same scalars as DQN.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from trainers.rl import loop
from trainers.rl.losses import clipped_step, td_loss, td_targets
from trainers.rl.monitor import TrainResult
from trainers.rl.qnet import build_qnet


@dataclasses.dataclass(frozen=True)
class QLearningParams(loop.LoopParams):
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
        """One gradient step on the given transitions; returns `td_loss` and mean `q_values`."""
        p = self.params
        target = td_targets(rewards, dones, p.gamma, self.qnet(next_obs))
        with tf.GradientTape() as tape:
            q = tf.gather(self.qnet(obs), actions, axis=1, batch_dims=1)
            loss = td_loss(q, target, p.huber)
        clipped_step(tape, loss, self.qnet.trainable_variables, self.optimizer, p.max_grad_norm)
        return {"td_loss": loss, "q_values": tf.reduce_mean(q)}


class QLearningAgent:
    """Online Q-learning as a `loop.Agent`: one update per lock-step, on that step's rows."""

    def __init__(self, obs_shape, n_actions: int, params: QLearningParams, initial_weights=None):
        """Builds the learner, warm-started from `initial_weights` if given."""
        self.n_actions = n_actions
        self.learner = OnlineLearner(int(np.prod(obs_shape)), n_actions, params)
        if initial_weights is not None:
            self.learner.qnet.set_weights(initial_weights)
        self.model = self.learner.qnet

    def greedy(self, observations) -> np.ndarray:
        """The network's argmax actions."""
        return self.learner.greedy(observations).numpy()

    def act(self, observations, epsilon: float, rng) -> np.ndarray:
        """ε-greedy actions (see `loop.epsilon_greedy`)."""
        return loop.epsilon_greedy(self.greedy, observations, epsilon, self.n_actions, rng)

    def observe(self, batch: loop.Transitions, step: int, rng) -> dict:
        """One semi-gradient update on the transitions (bootstrapping through truncation)."""
        del step, rng  # no schedule, no sampling: every step updates on what it saw
        out = self.learner.update(
            loop.flat(batch.observations),
            batch.actions.astype(np.int64),
            loop.flat(batch.next_observations),
            batch.rewards.astype(np.float32),
            batch.terminated.astype(np.float32),
        )
        return {name: value.numpy() for name, value in out.items()}


def train(params: QLearningParams, log_dir: str | None = None, initial_weights=None) -> TrainResult:
    """Trains a Q-network online on `params.env_id`; the same params give the same result.

    Losses and SPS are logged at every evaluation, as means over the steps since the last one.

    Args:
        params: Hyper-parameters.
        log_dir: TensorBoard log directory (None: no logs).
        initial_weights: Optional `model.get_weights()` of a same-shaped network (warm start).

    Returns:
        The best network by greedy evaluation, with the training record.

    """

    def make_agent(obs_shape, n_actions):
        return QLearningAgent(obs_shape, n_actions, params, initial_weights)

    return loop.run(params, make_agent, log_dir, log_every=params.eval_every)
