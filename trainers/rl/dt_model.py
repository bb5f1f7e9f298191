"""Decision Transformer (Chen et al. 2021) for discrete actions, as small tf_keras layers.

Each step t of a context window contributes three tokens — return-to-go R_t, state s_t and
action a_t — each embedded and added to a learned embedding of the timestep. A GPT-style
stack of pre-LayerNorm blocks with causal self-attention reads the interleaved sequence
(R_1, s_1, a_1, R_2, ...); the action a_t is predicted from the output at s_t's token, which
by causality sees R_≤t, s_≤t and a_<t only. The blocks are trainers/common/attention's.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common.attention import TransformerBlock, causal_mask

TOKENS_PER_STEP = 3  # return-to-go, state, action


@dataclasses.dataclass(frozen=True)
class DTShape:
    """What the model needs to know about the environment and the window."""

    obs_dim: int
    """Length of a (flat) observation."""
    n_actions: int
    """Number of discrete actions; id `n_actions` marks a padded or unknown action."""
    context: int
    """Steps per window K (the sequence has 3K tokens)."""
    max_timestep: int
    """Largest timestep embedded (the environment's episode limit)."""


class StepTokens(tf.keras.layers.Layer):
    """Embeds (R_t, s_t, a_t) plus the timestep and interleaves them: [B, K, ·] → [B, 3K, dim]."""

    def __init__(self, n_actions: int, max_timestep: int, dim: int, **kwargs):
        """Builds one embedding per token kind (action id `n_actions` = unknown) and time."""
        super().__init__(**kwargs)
        self.dim = dim
        self.returns = tf.keras.layers.Dense(dim)
        self.states = tf.keras.layers.Dense(dim)
        self.actions = tf.keras.layers.Embedding(n_actions + 1, dim)
        self.time = tf.keras.layers.Embedding(max_timestep + 1, dim)
        self.norm = tf.keras.layers.LayerNormalization(epsilon=1e-5)

    def call(self, returns_to_go, states, actions, timesteps):
        """Embeds returns_to_go [B, K, 1], states [B, K, obs], actions/timesteps int [B, K]."""
        time = self.time(timesteps)
        parts = [self.returns(returns_to_go), self.states(states), self.actions(actions)]
        stacked = tf.stack([part + time for part in parts], axis=2)  # [B, K, 3, dim]
        batch, steps = tf.shape(stacked)[0], tf.shape(stacked)[1]
        return self.norm(tf.reshape(stacked, [batch, TOKENS_PER_STEP * steps, self.dim]))


class CausalMask(tf.keras.layers.Layer):
    """Causal attention mask that also hides padded steps."""

    def call(self, step_mask):
        """Maps step_mask [B, K] (1 = real step) to a bool [B, 3K, 3K] (query, key) mask."""
        keys = tf.repeat(tf.cast(step_mask, tf.bool), TOKENS_PER_STEP, axis=1)  # [B, 3K]
        causal = causal_mask(tf.shape(keys)[1])
        return tf.logical_and(causal[tf.newaxis], keys[:, tf.newaxis, :])


def build(shape: DTShape, dim: int = 64, layers: int = 2, heads: int = 2, dropout: float = 0.1):
    """The Decision Transformer as a Keras model.

    Inputs (all [batch, K]-shaped, K = `shape.context`): `returns_to_go` float [B, K, 1] (scaled),
    `states` float [B, K, obs_dim], `actions` int [B, K] (`n_actions` where unknown),
    `timesteps` int [B, K] and `mask` float [B, K] (1 for real steps, 0 for left padding).

    Returns:
        A model mapping those inputs to action logits [B, K, n_actions] (float32).

    """
    k = shape.context
    inputs = {
        "returns_to_go": tf.keras.Input((k, 1), name="returns_to_go"),
        "states": tf.keras.Input((k, shape.obs_dim), name="states"),
        "actions": tf.keras.Input((k,), dtype=tf.int64, name="actions"),
        "timesteps": tf.keras.Input((k,), dtype=tf.int64, name="timesteps"),
        "mask": tf.keras.Input((k,), name="mask"),
    }
    tokens = StepTokens(shape.n_actions, shape.max_timestep, dim, name="step_tokens")(
        inputs["returns_to_go"], inputs["states"], inputs["actions"], inputs["timesteps"]
    )
    tokens = tf.keras.layers.Dropout(dropout)(tokens)
    mask = CausalMask(name="causal_mask")(inputs["mask"])
    for i in range(layers):
        tokens = TransformerBlock(dim, heads, dropout, name=f"block_{i}")(tokens, mask)
    tokens = tf.keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(tokens)
    state_tokens = tokens[:, 1::TOKENS_PER_STEP, :]  # the token that predicts a_t
    logits = tf.keras.layers.Dense(shape.n_actions, name="action_logits")(state_tokens)
    return tf.keras.Model(inputs, logits, name="decision_transformer")
