"""A discrete policy network as a serving SavedModel: observations → action and its score.

The contract every `POLICY` export keeps (and `kfx predict` reads): `serving_default` maps
`observations` (float32 [None, obs_dim]) to `action` (int64 [None], the argmax of the network's
output), `score` (float32 [None], how the policy rates that action) and the raw output under its
own name: `q_values` (value-based agents; score = the max Q-value), `probabilities` (a softmax
policy; score = the action's probability) or `logits` (score = the softmax probability).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from trainers import manifest

SIGNATURE = "serving_default"
# What `score` is for each raw output a policy network may have (the manifest's `score`).
SCORES = {"q_values": "q_value", "probabilities": "probability", "logits": "probability"}
_LEGACY_WEIGHTS = "q_weights"  # what exports before `policy_weights` kept the weights in


def score_of(outputs: str) -> str:
    """What `score` is for a network whose raw output is `outputs` (the manifest's `score`).

    Raises:
        ValueError: `outputs` is not a key of `SCORES`.

    """
    if outputs not in SCORES:
        raise ValueError(f"policy outputs {outputs!r}: expected one of {sorted(SCORES)}")
    return SCORES[outputs]


def action_and_score(values: tf.Tensor, outputs: str = "q_values") -> tuple[tf.Tensor, tf.Tensor]:
    """The greedy action (int64 [batch]) and its score (float32 [batch]) of raw outputs.

    Args:
        values: The network's output, one value per action [batch, n_actions].
        outputs: What `values` are (a key of `SCORES`).

    """
    score_of(outputs)
    rated = tf.nn.softmax(values, axis=1) if outputs == "logits" else values
    # The argmax of logits and of their softmax agree, so the score rates the chosen action.
    return tf.argmax(values, axis=1, output_type=tf.int64), tf.reduce_max(rated, axis=1)


def save_policy(
    model: tf.keras.Model, path: str, obs_dim: int | str | None = None, outputs: str = "q_values"
) -> None:
    """Exports `model` with the `serving_default` of the module docstring and its weights.

    The weights are also kept as a list in `model.get_weights()` order, which `load_weights`
    reads back (warm starts).

    Args:
        model: A policy network mapping [batch, obs_dim] observations to [batch, n_actions].
        path: Directory (local or remote) to write the SavedModel to.
        obs_dim: Observation length; a gymnasium env id to take it from that environment's
            observation space; None to take it from the model's input shape.
        outputs: What `model` outputs (a key of `SCORES`); also the output's serving name.

    """
    score_of(outputs)  # an unknown kind fails before anything is traced or written
    if isinstance(obs_dim, str):
        from trainers.rl.envs import env_spec

        obs_dim = int(np.prod(env_spec(obs_dim)[0]))
    if obs_dim is None:
        obs_dim = int(model.input_shape[-1])
    spec = tf.TensorSpec([None, obs_dim], tf.float32, name="observations")

    @tf.function(input_signature=[spec], autograph=False)  # no tf_keras transpiling
    def serve(observations):
        values = model(observations, training=False)
        action, score = action_and_score(values, outputs)
        return {"action": action, "score": score, outputs: values}

    module = tf.Module()
    module.policy_weights = list(model.weights)  # tracks the variables `serve` captures, in order
    module.serve = serve
    tf.saved_model.save(module, path, signatures={SIGNATURE: serve})


def policy_manifest(env_id: str, obs_dim: int, n_actions: int, outputs: str) -> manifest.Manifest:
    """The manifest of a `save_policy` export: one `obs_<i>` FLOAT column per observation."""
    return manifest.Manifest(
        kind=manifest.POLICY,
        env_id=env_id,
        features={f"obs_{i}": "FLOAT" for i in range(obs_dim)},
        actions=n_actions,
        score=score_of(outputs),
    )


def load_policy(path: str) -> Callable[[np.ndarray], np.ndarray]:
    """The greedy policy of a `save_policy` SavedModel: observations [batch, obs_dim] → actions.

    The returned function accepts anything convertible to float32 and returns int64 numpy
    actions [batch]; it fits `envs.evaluate`. It reads only `action`, so it plays any policy
    export. A Decision Transformer's SavedModel (its manifest says so) loads as its
    `dt_policy.DTPolicy`, which fits `envs.evaluate` too.
    """
    if manifest.exists(path) and manifest.read(path).kind == manifest.EPISODIC_POLICY:
        from trainers.rl import dt_policy

        return dt_policy.load(path, manifest.read(path))
    loaded = tf.saved_model.load(path)
    serve = loaded.signatures[SIGNATURE]

    def policy(observations) -> np.ndarray:
        batch = tf.convert_to_tensor(observations, dtype=tf.float32)
        return serve(observations=batch)["action"].numpy()

    policy.saved_model = loaded  # keeps the variables alive as long as the function
    return policy


def load_weights(path: str) -> list[np.ndarray]:
    """The network weights of a `save_policy` SavedModel, in `model.get_weights()` order.

    Also reads exports written before the weights list was renamed (warm starts from them).
    """
    loaded = tf.saved_model.load(path)
    weights = getattr(loaded, "policy_weights", None)
    if weights is None:
        weights = getattr(loaded, _LEGACY_WEIGHTS)
    return [variable.numpy() for variable in weights]


def train_from_config(train, default, config, log_dir: str | None, base_model: str | None):
    """What a value-based task's `train_policy` does: config → params → `train`.

    Args:
        train: `train(params, log_dir, initial_weights=...)`, e.g. `dqn.train`.
        default: the trainer's default hyper-parameters (a dataclass).
        config: the run's `TrainerConfig`: `hparams` over `default`, `env_id`, and
            `train_steps` as the environment-step budget (None: the dataclass default).
        log_dir: TensorBoard log directory (None: no logs).
        base_model: a `save_policy` SavedModel to warm-start from, or None.

    Returns:
        `train`'s `TrainResult`.
    """
    params = config.params(default, env_id=config.env_id, total_timesteps=config.train_steps)
    initial = load_weights(base_model) if base_model else None
    return train(params, log_dir, initial_weights=initial)
