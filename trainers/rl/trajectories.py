"""Episodes as data: rollouts with an exploration mix, returns-to-go, and tf.Example records.

One tf.Example holds one episode: `states` (flattened [T, obs_dim]), `actions`, `rewards`,
`returns_to_go` and `timesteps` ([T] each), plus `obs_dim`, `length`, `episode_return` and the
`epsilon` the episode was played with. Offline-RL trainers read them back with `load`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from trainers.common import progress
from trainers.rl import envs as envs_lib


def returns_to_go(rewards, gamma: float = 1.0) -> np.ndarray:
    """R_t = Σ_{k≥t} γ^(k−t) r_k for every t (float64, same length as `rewards`)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    out = np.zeros_like(rewards)
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        out[t] = running
    return out


@dataclasses.dataclass
class Trajectory:
    """One episode."""

    states: np.ndarray
    """float32 [T, obs_dim]: the observation before each action."""
    actions: np.ndarray
    """int64 [T]."""
    rewards: np.ndarray
    """float32 [T]."""
    epsilon: float = 0.0
    """Probability of a random action the episode was played with."""

    def __len__(self) -> int:
        """Number of steps T."""
        return len(self.actions)

    @property
    def episode_return(self) -> float:
        """Undiscounted sum of rewards."""
        return float(np.sum(self.rewards))

    @property
    def returns_to_go(self) -> np.ndarray:
        """Undiscounted return from each step on, float32 [T]."""
        return returns_to_go(self.rewards).astype(np.float32)

    @property
    def timesteps(self) -> np.ndarray:
        """0, 1, ..., T − 1 (int64)."""
        return np.arange(len(self), dtype=np.int64)


def rollout(
    policy_fn: Callable[[np.ndarray], np.ndarray],
    env_id: str,
    episodes: int,
    seed: int,
    epsilons: Sequence[float] = (0.0,),
) -> list[Trajectory]:
    """Plays `episodes` episodes side by side with an ε-greedy version of `policy_fn`.

    Episode i is reset with seed `seed + i` and plays with ε = `epsilons[i % len(epsilons)]`,
    so a mix of ε values gives returns from expert to poor: what return-conditioned models
    need to learn what separates them. The same arguments give the same trajectories.

    Args:
        policy_fn: Maps float32 observations [batch, obs_dim] to integer actions [batch].
        env_id: A gymnasium environment id with a discrete action space.
        episodes: Number of episodes.
        seed: Seed of the first episode (and of the exploration draws).
        epsilons: Exploration probabilities, assigned to episodes round-robin.

    Returns:
        The trajectories in episode order.

    """
    rng = np.random.default_rng(seed)
    env_list = [envs_lib.make_env(env_id, seed + i) for i in range(episodes)]
    eps = np.array([epsilons[i % len(epsilons)] for i in range(episodes)], dtype=np.float64)
    obs = [
        np.asarray(env.reset(seed=seed + i)[0], np.float32).reshape(-1)
        for i, env in enumerate(env_list)
    ]
    steps: list[list[tuple[np.ndarray, int, float]]] = [[] for _ in range(episodes)]
    running = list(range(episodes))
    bar = progress.Bar(episodes, "playing", "episode")
    try:
        while running:
            batch = np.stack([obs[i] for i in running])
            greedy = np.asarray(policy_fn(batch)).reshape(-1)
            random_actions = rng.integers(0, env_list[0].action_space.n, size=len(running))
            explore = rng.random(len(running)) < eps[running]
            actions = np.where(explore, random_actions, greedy)
            still = []
            for i, action in zip(running, actions, strict=True):
                next_obs, reward, terminated, truncated, _ = env_list[i].step(int(action))
                steps[i].append((obs[i], int(action), float(reward)))
                obs[i] = np.asarray(next_obs, np.float32).reshape(-1)
                if not (terminated or truncated):
                    still.append(i)
            bar.update(len(running) - len(still))
            running = still
    finally:
        bar.close()
        for env in env_list:
            env.close()
    return [
        Trajectory(
            states=np.stack([s for s, _, _ in ep]).astype(np.float32),
            actions=np.array([a for _, a, _ in ep], dtype=np.int64),
            rewards=np.array([r for _, _, r in ep], dtype=np.float32),
            epsilon=float(eps[i]),
        )
        for i, ep in enumerate(steps)
    ]


def to_example(trajectory: Trajectory):
    """The tf.train.Example of one episode (see the module docstring for its features)."""
    import tensorflow as tf

    def floats(values):
        return tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(values).tolist()))

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=np.ravel(values).tolist()))

    t = trajectory
    features = {
        "states": floats(t.states),
        "actions": ints(t.actions),
        "rewards": floats(t.rewards),
        "returns_to_go": floats(t.returns_to_go),
        "timesteps": ints(t.timesteps),
        "obs_dim": ints([t.states.shape[1]]),
        "length": ints([len(t)]),
        "episode_return": floats([t.episode_return]),
        "epsilon": floats([t.epsilon]),
    }
    return tf.train.Example(features=tf.train.Features(feature=features))


def from_example(serialized: bytes) -> Trajectory:
    """Parses a `to_example` record back into a Trajectory."""
    import tensorflow as tf

    example = tf.train.Example.FromString(serialized)
    feature = example.features.feature
    obs_dim = feature["obs_dim"].int64_list.value[0]
    return Trajectory(
        states=np.array(feature["states"].float_list.value, np.float32).reshape(-1, obs_dim),
        actions=np.array(feature["actions"].int64_list.value, np.int64),
        rewards=np.array(feature["rewards"].float_list.value, np.float32),
        epsilon=float(feature["epsilon"].float_list.value[0]),
    )


def write(trajectories: Iterable[Trajectory], path: str) -> int:
    """Writes episodes as GZIP TFRecords of tf.Examples; returns how many were written."""
    import tensorflow as tf

    count = 0
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for trajectory in trajectories:
            writer.write(to_example(trajectory).SerializeToString())
            count += 1
    return count


def load(file_patterns: Iterable[str]) -> list[Trajectory]:
    """Every episode in the GZIP TFRecord files matching `file_patterns` (sorted, in order)."""
    import tensorflow as tf

    patterns = list(file_patterns)
    files = sorted({f for pattern in patterns for f in tf.io.gfile.glob(pattern)})
    if not files:
        raise FileNotFoundError(f"no trajectory files match {patterns}")
    records = tf.data.TFRecordDataset(files, compression_type="GZIP")
    return [from_example(record.numpy()) for record in records]
