"""The Q-network: an MLP from observations to one Q-value per action."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf


def build_qnet(
    obs_dim: int, n_actions: int, hidden: Sequence[int] = (256, 256), seed: int = 0
) -> tf.keras.Model:
    """Dense-ReLU layers (He-uniform initialised) and a linear output of `n_actions` Q-values.

    Args:
        obs_dim: Length of a (flat) observation.
        n_actions: Number of discrete actions.
        hidden: Width of each hidden layer.
        seed: Seed of the weight initialisers (layer i uses `seed + i`).

    Returns:
        An uncompiled Keras model mapping float32 [batch, obs_dim] to float32 [batch, n_actions].

    """
    inputs = tf.keras.Input(shape=(obs_dim,), dtype=tf.float32, name="observations")
    x = inputs
    for i, units in enumerate(hidden):
        init = tf.keras.initializers.HeUniform(seed=seed + i)
        x = tf.keras.layers.Dense(
            units, activation="relu", kernel_initializer=init, name=f"hidden_{i}"
        )(x)
    out_init = tf.keras.initializers.GlorotUniform(seed=seed + len(hidden))
    q_values = tf.keras.layers.Dense(n_actions, kernel_initializer=out_init, name="q_values")(x)
    return tf.keras.Model(inputs, q_values, name="qnet")
