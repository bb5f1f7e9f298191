"""TrajectoryGen: rolls out a pushed policy and writes its episodes as an Examples artifact.

Offline-RL models (a Decision Transformer) then train with the standard TFX Trainer on these
examples. Each episode plays with one exploration rate from `epsilons` (round-robin), so the
data spans returns from expert to poor. Episodes go to the `train` or `eval` split by index
(every `eval_every`-th episode is eval), one tf.Example per episode (see
trainers/rl/trajectories.py for its features). Artifacts are written through `tf.io.gfile`, so
any filesystem TensorFlow knows works (local, gs://, ram://).
"""

import os

import numpy as np
from tfx.dsl.component.experimental.annotations import (
    InputArtifact,
    OutputArtifact,
    Parameter,
)
from tfx.dsl.component.experimental.decorators import component
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples, Model

from components import artifacts

STATS_FILE = "trajectory_stats.json"
FILE_NAME = "trajectories.tfrecord.gz"


def split_of(index: int, eval_every: int) -> str:
    """'eval' for every `eval_every`-th episode (index 0, eval_every, ...), else 'train'."""
    return "eval" if index % eval_every == 0 else "train"


def stats(trajectories) -> dict:
    """Episode count, steps and return statistics, overall and per exploration rate."""
    returns = np.array([t.episode_return for t in trajectories])
    per_eps = {}
    for eps in sorted({t.epsilon for t in trajectories}):
        chosen = [t.episode_return for t in trajectories if t.epsilon == eps]
        per_eps[f"{eps:g}"] = {"episodes": len(chosen), "mean_return": float(np.mean(chosen))}
    return {
        "episodes": len(trajectories),
        "steps": int(sum(len(t) for t in trajectories)),
        "mean_return": float(returns.mean()),
        "min_return": float(returns.min()),
        "max_return": float(returns.max()),
        "by_epsilon": per_eps,
    }


def write_episodes(played, examples, eval_every: int) -> dict[str, int]:
    """Writes `played` into the `train` and `eval` splits of the `examples` artifact.

    Args:
        played: Trajectories in episode order (`split_of` assigns each by its index).
        examples: The Examples artifact (its `uri` set); its `split_names` are set here.
        eval_every: Every `eval_every`-th episode goes to `eval`.

    Returns:
        Episodes written per split.

    """
    import tensorflow as tf

    from trainers.rl import trajectories

    splits = {"train": [], "eval": []}
    for i, trajectory in enumerate(played):
        splits[split_of(i, eval_every)].append(trajectory)
    examples.split_names = artifact_utils.encode_split_names(list(splits))
    for name, chosen in splits.items():
        folder = artifact_utils.get_split_uri([examples], name)
        tf.io.gfile.makedirs(folder)
        trajectories.write(chosen, os.path.join(folder, FILE_NAME))
    return {name: len(chosen) for name, chosen in splits.items()}


def write_stats(examples_uri: str, summary: dict) -> str:
    """Writes `summary` as `STATS_FILE` in the artifact directory; returns the file's path."""
    return artifacts.write_json(examples_uri, STATS_FILE, summary)


# The offline-RL pipeline calls this.
@component
def TrajectoryGen(  # noqa: N802 (TFX component names are classes)
    model: InputArtifact[Model],
    examples: OutputArtifact[Examples],
    env_id: Parameter[str],
    episodes: Parameter[int] = 300,
    epsilons: Parameter[str] = "0,0.1,0.2,0.3,0.5",
    eval_every: Parameter[int] = 5,
    seed: Parameter[int] = 20_000,
) -> None:
    """Plays `episodes` ε-greedy episodes of the policy in `model` and writes them."""
    from tfx.utils import path_utils

    from trainers.rl import export, trajectories

    policy = export.load_policy(path_utils.serving_model_dir(model.uri))
    rates = [float(e) for e in epsilons.split(",")]
    played = trajectories.rollout(policy, env_id, episodes, seed, rates)
    write_episodes(played, examples, eval_every)
    summary = dict(stats(played), env_id=env_id, policy=model.uri, epsilons=rates)
    write_stats(examples.uri, summary)
    artifacts.set_properties(
        examples,
        {
            "episodes": int(summary["episodes"]),
            "steps": int(summary["steps"]),
            "mean_return": float(summary["mean_return"]),
        },
    )
