"""TrajectoryGen's writing helpers on TensorFlow's in-process ram:// filesystem."""

import json
import os

import numpy as np
import tensorflow as tf
from tfx.types import artifact_utils
from tfx.types.standard_artifacts import Examples

from components import trajectory_gen
from trainers.rl import trajectories


def test_episodes_and_stats_are_written_through_gfile():
    examples = Examples()
    examples.uri = "ram://trajectory_gen_test/examples"
    played = trajectories.rollout(
        lambda obs: np.zeros(len(obs), np.int64), "CartPole-v1", 6, 0, epsilons=(0.0, 1.0)
    )
    counts = trajectory_gen.write_episodes(played, examples, eval_every=3)
    assert counts == {"train": 4, "eval": 2}
    assert artifact_utils.decode_split_names(examples.split_names) == ["train", "eval"]
    folder = artifact_utils.get_split_uri([examples], "eval")
    loaded = trajectories.load([os.path.join(folder, "*.tfrecord.gz")])
    for got, expected in zip(loaded, played[::3], strict=True):
        np.testing.assert_array_equal(got.actions, expected.actions)
    summary = dict(trajectory_gen.stats(played), env_id="CartPole-v1")
    path = trajectory_gen.write_stats(examples.uri, summary)
    with tf.io.gfile.GFile(path) as handle:
        assert json.load(handle) == summary
