"""A Q-network as a serving SavedModel: observations → greedy action and Q-values."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf

SIGNATURE = "serving_default"


def save_policy(model: tf.keras.Model, path: str, obs_dim: int | str | None = None) -> None:
    """Exports `model` with a `serving_default` signature and its weights in order.

    The signature takes `observations` (float32 [None, obs_dim]) and returns `action` (int64
    [None], the argmax) and `q_values` (float32 [None, n_actions]). The weights are also kept
    as a list in `model.get_weights()` order, which `load_weights` reads back (warm starts).

    Args:
        model: A Q-network mapping [batch, obs_dim] observations to [batch, n_actions].
        path: Directory to write the SavedModel to.
        obs_dim: Observation length; a gymnasium env id to take it from that environment's
            observation space; None to take it from the model's input shape.

    """
    if isinstance(obs_dim, str):
        from trainers.rl.envs import env_spec

        obs_dim = int(np.prod(env_spec(obs_dim)[0]))
    if obs_dim is None:
        obs_dim = int(model.input_shape[-1])
    spec = tf.TensorSpec([None, obs_dim], tf.float32, name="observations")

    @tf.function(input_signature=[spec], autograph=False)  # no tf_keras transpiling
    def serve(observations):
        q_values = model(observations, training=False)
        return {"action": tf.argmax(q_values, axis=1, output_type=tf.int64), "q_values": q_values}

    module = tf.Module()
    module.q_weights = list(model.weights)  # tracks the variables `serve` captures, in order
    module.serve = serve
    tf.saved_model.save(module, path, signatures={SIGNATURE: serve})


def load_policy(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """The greedy policy of a `save_policy` SavedModel: observations [batch, obs_dim] → actions.

    The returned function accepts anything convertible to float32 and returns int64 numpy
    actions [batch]; it fits `envs.evaluate`. A Decision Transformer's SavedModel (its
    manifest says so) loads as its `dt_policy.DTPolicy`, which fits `envs.evaluate` too.
    """
    manifest = read_manifest(path)
    if manifest.get("kind") == "decision_transformer":
        from trainers.rl import dt_policy

        return dt_policy.load(path, manifest)
    loaded = tf.saved_model.load(path)
    serve = loaded.signatures[SIGNATURE]

    def policy(observations) -> np.ndarray:
        batch = tf.convert_to_tensor(observations, dtype=tf.float32)
        return serve(observations=batch)["action"].numpy()

    policy.saved_model = loaded  # keeps the variables alive as long as the function
    return policy


def read_manifest(path: str) -> dict:
    """The policy's `assets.extra/kfx.json` (an empty dict when there is none)."""
    from trainers.common.signatures import MANIFEST

    manifest = os.path.join(path, MANIFEST)
    if not tf.io.gfile.exists(manifest):
        return {}
    with tf.io.gfile.GFile(manifest) as handle:
        return json.load(handle)


def load_weights(path: str) -> list[np.ndarray]:
    """The Q-network weights of a `save_policy` SavedModel, in `model.get_weights()` order."""
    return [variable.numpy() for variable in tf.saved_model.load(path).q_weights]
