"""What every value-based trainer shares: seeding, episode logging, periodic greedy evaluation.

`Evaluations` keeps the best weights seen by greedy evaluation on fixed seeds (like
Stable-Baselines3's EvalCallback) and decides when training may stop; `EpisodeStats` logs the
`charts/*` scalars of finished training episodes; `TrainResult` is what RLTrainer exports.
`trainers.rl.loop` drives them.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from trainers.rl import envs as envs_lib

MIN_STOP_EPISODES = 20  # an evaluation needs at least this many episodes to stop training
# First seed of the final evaluation (PolicyEvaluator's default); training never evaluates on it.
FINAL_EVAL_SEED = 10_000


@dataclasses.dataclass(frozen=True)
class EvalParams:
    """What every value-based trainer's hyper-parameters share: the env and its evaluation."""

    env_id: str = "CartPole-v1"
    """Gymnasium id of an environment with a discrete action space and a flat observation."""
    seed: int = 0
    """Seed of weights, exploration, sampling and the training environments."""
    eval_every: int = 1_000
    """Environment steps between greedy evaluations (one more runs at the end)."""
    eval_episodes: int = 50
    """Episodes per evaluation; early stopping needs at least MIN_STOP_EPISODES."""
    eval_seed: int = 1_000
    """Evaluation episode i is reset with seed `eval_seed + i` (fixed, so comparisons pair).
    These seeds pick the kept weights, so they must stay disjoint from the final evaluation's
    (PolicyEvaluator and the benchmark play seeds `FINAL_EVAL_SEED + i`)."""
    target_return: float = 475.0
    """Evaluation return that stops training early (CartPole-v1's 'solved' level)."""
    stop_margin_se: float = 2.0
    """Training stops once an evaluation's mean minus this many standard errors of the mean
    reaches `target_return` (0: the plain mean), so a lucky evaluation does not stop it."""


@dataclasses.dataclass
class TrainResult:
    """What a trainer's `train` returns."""

    model: tf.keras.Model
    """The policy network (observations [batch, obs_dim] → one output per action) with the
    weights of the best evaluation."""
    env_id: str
    """Environment the network was trained on."""
    steps_to_target: int | None
    """Environment steps done when an evaluation reached the target and stopped training."""
    history: list[tuple[int, float]]
    """(environment steps, mean evaluation return) of every evaluation."""
    wall_s: float
    """Seconds spent in `train`, evaluations included."""
    env_steps: int
    """Environment steps done (evaluation episodes not counted)."""
    best_return: float
    """Mean return of the best evaluation (the one whose weights `model` holds)."""
    best_step: int
    """Environment steps done at the best evaluation."""
    outputs: str = "q_values"
    """What `model` outputs per action, and the name of that output in the SavedModel:
    'q_values', 'probabilities' or 'logits' (see `export.SCORES`); the greedy action is the
    argmax of any of them."""

    @property
    def summary(self) -> dict:
        """JSON-ready numbers (everything but the model)."""
        fields = dataclasses.asdict(dataclasses.replace(self, model=None))
        fields.pop("model")
        return fields


def seed_everything(seed: int) -> None:
    """Seeds Python's `random`, numpy's global generator and TensorFlow."""
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)


class EpisodeStats:
    """Running return and length per environment, logged when an episode ends."""

    def __init__(self, num_envs: int):
        """Zeroes the counters of `num_envs` environments."""
        self.returns = np.zeros(num_envs)
        self.lengths = np.zeros(num_envs, dtype=np.int64)

    def update(self, rewards, ended, epsilon: float, step: int) -> None:
        """Adds one step's rewards; logs and resets the environments listed in `ended`."""
        self.returns += rewards
        self.lengths += 1
        for i in ended:
            tf.summary.scalar("charts/episodic_return", self.returns[i], step=step)
            tf.summary.scalar("charts/episodic_length", self.lengths[i], step=step)
            tf.summary.scalar("charts/epsilon", epsilon, step=step)
            self.returns[i], self.lengths[i] = 0.0, 0


class Evaluations:
    """Periodic greedy evaluations: history, best weights and the early-stopping decision.

    `params` is a trainer's hyper-parameters, an `EvalParams`. Every evaluation plays the same
    episodes, seeds `eval_seed + i`: disjoint from the final evaluation's (`FINAL_EVAL_SEED`
    on), so choosing the best weights does not tune them to the episodes they are judged on.
    """

    def __init__(
        self, params: EvalParams, model: tf.keras.Model, greedy: Callable[[np.ndarray], np.ndarray]
    ):
        """Starts with `model`'s current weights as the best.

        Args:
            params: The trainer's hyper-parameters (see the class docstring).
            model: The network whose weights are kept at the best evaluation.
            greedy: Maps float32 observations [batch, obs_dim] to actions [batch].

        """
        self.params, self.model, self.greedy = params, model, greedy
        self.history: list[tuple[int, float]] = []
        self.best_return, self.best_step = -np.inf, 0
        self.best_weights = model.get_weights()
        self.steps_to_target: int | None = None

    @property
    def reached(self) -> bool:
        """Whether an evaluation met the target (training should stop)."""
        return self.steps_to_target is not None

    def run(self, step: int) -> None:
        """Evaluates the current weights greedily and logs `eval/mean_return`."""
        p = self.params

        def policy(obs):
            return np.asarray(self.greedy(obs.reshape(len(obs), -1)))

        returns = envs_lib.evaluate(policy, p.env_id, p.eval_episodes, p.eval_seed)
        mean = float(returns.mean())
        self.history.append((step, mean))
        tf.summary.scalar("eval/mean_return", mean, step=step)
        tf.summary.scalar("eval/std_return", float(returns.std()), step=step)
        if mean > self.best_return:
            self.best_return, self.best_step = mean, step
            self.best_weights = self.model.get_weights()
        standard_error = returns.std(ddof=1) / np.sqrt(len(returns)) if len(returns) > 1 else 0.0
        lower = mean - p.stop_margin_se * standard_error
        if lower >= p.target_return and len(returns) >= MIN_STOP_EPISODES:
            self.steps_to_target = step

    def result(
        self, env_id: str, env_steps: int, wall_s: float, outputs: str = "q_values"
    ) -> TrainResult:
        """Restores the best weights into the model and packs the training record."""
        self.model.set_weights(self.best_weights)
        return TrainResult(
            model=self.model,
            env_id=env_id,
            steps_to_target=self.steps_to_target,
            history=self.history,
            wall_s=wall_s,
            env_steps=env_steps,
            best_return=self.best_return,
            best_step=self.best_step,
            outputs=outputs,
        )
