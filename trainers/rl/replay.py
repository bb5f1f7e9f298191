"""A numpy ring buffer of transitions for off-policy learning from vectorised environments."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """Sampled transitions, each array with the sample index first."""

    observations: np.ndarray
    actions: np.ndarray
    next_observations: np.ndarray
    rewards: np.ndarray
    dones: np.ndarray
    """1.0 where the episode *terminated* at this transition (no bootstrapping), else 0.0."""


class ReplayBuffer:
    """Fixed-capacity FIFO storage; the oldest transitions are overwritten first.

    Time-limit truncation is not termination: a transition that ends an episode only because
    of a time limit is stored with `dones = 0`, so its target still bootstraps from the true
    final observation (which the caller passes as `next_obs`, not the reset observation).
    """

    def __init__(self, capacity: int, obs_shape: tuple[int, ...], obs_dtype=np.float32):
        """Allocates storage.

        Args:
            capacity: Maximum number of transitions kept.
            obs_shape: Shape of one observation.
            obs_dtype: Storage dtype of observations.

        """
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.observations = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.next_observations = np.zeros((capacity, *obs_shape), dtype=obs_dtype)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.dones = np.zeros(capacity, dtype=np.float32)
        self.pos = 0
        self.full = False

    def __len__(self) -> int:
        return self.capacity if self.full else self.pos

    def add(self, obs, next_obs, actions, rewards, terminated, truncated=None) -> None:
        """Stores one transition per environment of a vectorised step.

        Args:
            obs: Observations before the step, shape [n_envs, *obs_shape].
            next_obs: True next observations (the final observation where an episode ended).
            actions: Actions taken, shape [n_envs].
            rewards: Rewards received, shape [n_envs].
            terminated: Episode reached a terminal state, shape [n_envs].
            truncated: Episode was cut by a time limit; accepted for clarity and ignored,
                because bootstrapping continues through truncation.

        """
        del truncated  # deliberately not a `done`: see the class docstring
        arrays = [np.asarray(a) for a in (obs, next_obs, actions, rewards, terminated)]
        arrays = [a[-self.capacity :] for a in arrays]  # more than fits: keep the newest
        n = arrays[0].shape[0]
        idx = (self.pos + np.arange(n)) % self.capacity
        for store, values in zip(self._stores(), arrays, strict=True):
            store[idx] = values
        self.full = self.full or self.pos + n >= self.capacity
        self.pos = (self.pos + n) % self.capacity

    def _stores(self) -> tuple[np.ndarray, ...]:
        return self.observations, self.next_observations, self.actions, self.rewards, self.dones

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """Draws `batch_size` stored transitions uniformly, with replacement.

        Args:
            batch_size: Number of transitions.
            rng: Source of randomness (so sampling is reproducible).

        Returns:
            A `Batch` of arrays with leading dimension `batch_size`.

        Raises:
            ValueError: The buffer is empty.

        """
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        idx = rng.integers(0, len(self), size=batch_size)
        return Batch(
            self.observations[idx],
            self.actions[idx],
            self.next_observations[idx],
            self.rewards[idx],
            self.dones[idx],
        )
