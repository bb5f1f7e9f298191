"""The one training loop of every online value-based agent (DQN, online Q-learning).

CleanRL's skeleton, written once: seed → vectorised environments → per lock-step step an
ε-greedy `act`, the environment step, `observe` on the transitions (the agent decides when and
how it learns) → episode statistics → a greedy evaluation every `eval_every` steps that keeps
the best weights (`monitor.Evaluations`) and may stop training → a final evaluation → the
best network in a `TrainResult`.

TensorBoard scalars: `charts/episodic_return`, `charts/episodic_length`, `charts/epsilon` (per
finished episode), `losses/<name>` (mean of what `observe` returned since the last log) with
`charts/SPS`, and `eval/mean_return`, `eval/std_return`; and the network's graph. A progress
bar over the environment steps goes to stderr (trainers/common/progress.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol

import numpy as np
import tensorflow as tf

from trainers.common import board, progress
from trainers.rl import envs as envs_lib
from trainers.rl.monitor import EpisodeStats, EvalParams, Evaluations, TrainResult, seed_everything
from trainers.rl.schedules import linear_schedule


@dataclasses.dataclass(frozen=True)
class LoopParams(EvalParams):
    """What the loop reads of a trainer's hyper-parameters (defaults: DQN's, see dqn.py)."""

    total_timesteps: int = 50_000
    """Budget of environment steps (transitions, summed over the vectorised environments)."""
    num_envs: int = 4
    """Environments stepped in lock-step; sub-environment i is seeded with `seed + i`."""
    start_e: float = 1.0
    """Exploration probability ε at the start."""
    end_e: float = 0.04
    """Final ε, reached after `exploration_fraction * total_timesteps` steps."""
    exploration_fraction: float = 0.16
    """Fraction of `total_timesteps` over which ε decays linearly."""

    def epsilon(self, step: int) -> float:
        """The exploration probability after `step` environment steps."""
        duration = self.exploration_fraction * self.total_timesteps
        return linear_schedule(self.start_e, self.end_e, duration, step)


class Transitions(NamedTuple):
    """One lock-step of the vectorised environments, one row per environment."""

    observations: np.ndarray
    """Observations the actions were chosen on [num_envs, *obs_shape]."""
    actions: np.ndarray
    """int64 [num_envs]."""
    rewards: np.ndarray
    """[num_envs]."""
    next_observations: np.ndarray
    """True next observations: the final one where an episode ended (not the reset one)."""
    terminated: np.ndarray
    """bool [num_envs]: the episode reached a terminal state (no bootstrapping)."""
    truncated: np.ndarray
    """bool [num_envs]: the episode was cut by a time limit (bootstrapping continues)."""


class Agent(Protocol):
    """What the loop drives; every random draw comes from the loop's `rng`."""

    model: tf.keras.Model
    """The network evaluated and checkpointed (its best weights end up in the result)."""

    def greedy(self, observations: np.ndarray) -> np.ndarray:
        """Greedy actions [batch] for float32 observations [batch, obs_dim]."""

    def act(self, observations: np.ndarray, epsilon: float, rng: np.random.Generator):
        """Training actions [num_envs] for the environments' current observations."""

    def observe(
        self, batch: Transitions, step: int, rng: np.random.Generator
    ) -> Mapping[str, float] | None:
        """Learns from one lock-step, `step` environment steps into training.

        Returns the values to log as `losses/<name>`, or None when it did not update.
        """


def flat(observations) -> np.ndarray:
    """float32 [batch, obs_dim]: what the networks take."""
    return np.asarray(observations, np.float32).reshape(len(observations), -1)


def epsilon_greedy(greedy, observations, epsilon: float, n_actions: int, rng) -> np.ndarray:
    """Uniform random actions with probability ε, else `greedy(flat(observations))`.

    Draws `rng.random` then `rng.integers` for every batch (whatever ε is), so the random
    stream does not depend on the network; the network is skipped when all rows explore.
    """
    explore = rng.random(len(observations)) < epsilon
    actions = rng.integers(0, n_actions, size=len(observations))
    if not explore.all():
        actions = np.where(explore, actions, greedy(flat(observations)))
    return actions


def true_next(next_obs: np.ndarray, ended, infos) -> np.ndarray:
    """`next_obs` with the final observation where an episode ended (same-step autoreset)."""
    real = next_obs.copy()
    for i in ended:
        real[i] = infos["final_obs"][i]
    return real


class _LossLog:
    """Means of `observe`'s values, logged with `charts/SPS` every `every` steps.

    `every` = 0 logs whenever the agent returned values (once per training phase).
    """

    def __init__(self, every: int, start: float):
        self.every, self.start = every, start
        self.next_log = every
        self.pending: dict[str, list] = {}

    def add(self, values: Mapping[str, float] | None, step: int) -> None:
        """Keeps `values` and logs the means if a log is due after `step` steps."""
        for name, value in (values or {}).items():
            self.pending.setdefault(name, []).append(value)
        if self._due(step):
            for name, values_since in self.pending.items():
                tf.summary.scalar(f"losses/{name}", float(np.mean(values_since)), step=step)
            tf.summary.scalar("charts/SPS", step / (time.monotonic() - self.start), step=step)
            self.pending = {}

    def _due(self, step: int) -> bool:
        if self.every <= 0:
            return bool(self.pending)
        if step < self.next_log:
            return False
        self.next_log += self.every
        return True


def run(
    params: LoopParams,
    make_agent: Callable[[tuple[int, ...], int], Agent],
    log_dir: str | None = None,
    log_every: int = 0,
    outputs: str = "q_values",
) -> TrainResult:
    """Trains the agent `make_agent(obs_shape, n_actions)` builds; the same params, same result.

    The agent is built after seeding, so its weights are seeded too. Evaluations play seeds
    `eval_seed + i`, never the final evaluation's (see `monitor.Evaluations`).

    Args:
        params: The trainer's hyper-parameters.
        make_agent: Builds the agent for `params.env_id`'s observation shape and action count.
        log_dir: TensorBoard log directory (None: no logs).
        log_every: Environment steps between `losses/*` logs (0: whenever the agent updated).
        outputs: What `agent.model` outputs (see `TrainResult.outputs`).

    Returns:
        The agent's network with the weights of its best evaluation, and the training record.

    """
    p = params
    start = time.monotonic()
    seed_everything(p.seed)
    rng = np.random.default_rng(p.seed)
    obs_shape, n_actions = envs_lib.env_spec(p.env_id)
    agent = make_agent(obs_shape, n_actions)
    writer = tf.summary.create_file_writer(log_dir) if log_dir else tf.summary.create_noop_writer()
    evals = Evaluations(p, agent.model, agent.greedy)
    episodes = EpisodeStats(p.num_envs)
    losses = _LossLog(log_every, start)
    step, next_eval = 0, p.eval_every
    vec_env = envs_lib.make_vec_env(p.env_id, p.num_envs, p.seed)
    bar = progress.Bar(p.total_timesteps, "RL training", "step")
    with writer.as_default(), contextlib.closing(vec_env) as envs, bar:
        obs, _ = envs.reset(seed=p.seed)
        if log_dir:
            board.graph(agent.model, flat(obs))
        while step < p.total_timesteps and not evals.reached:
            epsilon = p.epsilon(step)
            actions = agent.act(obs, epsilon, rng)
            next_obs, rewards, terminated, truncated, infos = envs.step(actions)
            ended = np.flatnonzero(terminated | truncated)
            real_next = true_next(next_obs, ended, infos)
            batch = Transitions(obs, actions, rewards, real_next, terminated, truncated)
            obs = next_obs
            step += p.num_envs
            episodes.update(rewards, ended, epsilon, step)
            losses.add(agent.observe(batch, step, rng), step)
            bar.update(p.num_envs, **({"epsilon": epsilon} if len(ended) else {}))
            if step >= next_eval:
                next_eval += p.eval_every
                evals.run(step)
        if not evals.history or evals.history[-1][0] != step:
            evals.run(step)  # the last weights are a candidate too
    writer.close()
    return evals.result(p.env_id, step, time.monotonic() - start, outputs)
