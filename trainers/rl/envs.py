"""Seeded gymnasium environments and greedy evaluation on fixed seeds."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import gymnasium as gym
import numpy as np


@runtime_checkable
class EpisodicPolicy(Protocol):
    """A policy that keeps per-episode context across steps (see `evaluate`)."""

    def reset(self, episodes: int) -> None:
        """Forgets everything and prepares `episodes` fresh episodes."""

    def act(self, ids: Sequence[int], observations: np.ndarray) -> np.ndarray:
        """Actions [len(ids)] for the current observations of episodes `ids`."""

    def record(self, ids: Sequence[int], actions: np.ndarray, rewards: np.ndarray) -> None:
        """Tells the policy which actions episodes `ids` took and the rewards they got."""


def make_env(env_id: str, seed: int) -> gym.Env:
    """One environment whose action and observation spaces are seeded with `seed`.

    The environment's own randomness is seeded by the first `reset(seed=...)`, which the
    caller does (vector environments do it in their own `reset(seed=...)`).

    Raises:
        ValueError: The action space is not `Discrete` (policy networks have one output per
            action).

    """
    env = gym.make(env_id)
    if not isinstance(env.action_space, gym.spaces.Discrete):
        env.close()
        raise ValueError(f"{env_id} has action space {env.action_space}; policies need Discrete")
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


def make_vec_env(env_id: str, num_envs: int, seed: int) -> gym.vector.SyncVectorEnv:
    """`num_envs` copies stepped in lock-step; sub-environment i uses seed `seed + i`.

    Uses same-step autoreset: when an episode ends, `step` returns the first observation of
    the next episode and puts the true final observation in `infos["final_obs"]`.
    """
    return gym.vector.SyncVectorEnv(
        [lambda i=i: make_env(env_id, seed + i) for i in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def env_spec(env_id: str) -> tuple[tuple[int, ...], int]:
    """(observation shape, number of actions) of `env_id`."""
    env = make_env(env_id, 0)
    try:
        return tuple(env.observation_space.shape), int(env.action_space.n)
    finally:
        env.close()


def evaluate(
    policy_fn: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int, seed: int
) -> np.ndarray:
    """Plays `episodes` episodes with `policy_fn`, episode i reset with seed `seed + i`.

    All episodes run side by side, so `policy_fn` is called once per time step on a batch of
    the observations of the episodes still running. A deterministic (greedy) policy therefore
    gives the same returns on every call.

    A policy that conditions on the episode so far (a Decision Transformer) is an
    `EpisodicPolicy` instead: `reset(episodes)` first, then per step `act(ids, observations)`
    for the running episodes' ids and `record(ids, actions, rewards)` with what happened.

    Args:
        policy_fn: Maps float32 observations [batch, *obs_shape] to integer actions [batch],
            or an `EpisodicPolicy`.
        env_id: A gymnasium environment id with a discrete action space.
        episodes: Number of episodes.
        seed: Seed of the first episode.

    Returns:
        The undiscounted return of each episode, float64 [episodes], in seed order.

    """
    envs = [make_env(env_id, seed + i) for i in range(episodes)]
    obs = [env.reset(seed=seed + i)[0] for i, env in enumerate(envs)]
    returns = np.zeros(episodes, dtype=np.float64)
    running = list(range(episodes))
    episodic = isinstance(policy_fn, EpisodicPolicy)
    if episodic:
        policy_fn.reset(episodes)
    try:
        while running:
            batch = np.stack([obs[i] for i in running]).astype(np.float32)
            chosen = policy_fn.act(running, batch) if episodic else policy_fn(batch)
            actions = np.asarray(chosen).reshape(-1)
            still, rewards = [], np.zeros(len(running))
            for k, (i, action) in enumerate(zip(running, actions, strict=True)):
                obs[i], rewards[k], terminated, truncated, _ = envs[i].step(int(action))
                returns[i] += float(rewards[k])
                if not (terminated or truncated):
                    still.append(i)
            if episodic:
                policy_fn.record(running, actions, rewards)
            running = still
    finally:
        for env in envs:
            env.close()
    return returns
