"""Attention and transformer building blocks every sequence model here shares.

Scaled dot-product attention is written out once (`scaled_dot_product_attention`,
`SelfAttention`) next to Keras' `MultiHeadAttention`; `TransformerBlock` takes either, so a
model can say which it was built on. Masks are bool [batch, query, key] (True: may attend).
`DecoderBlock` adds attention over an encoder's output (seq2seq). Used by the text,
time-series, ViT and seq2seq models and the Decision Transformer (trainers/rl/dt_model.py).
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

ATTENTION = ("keras", "scratch")  # `TransformerBlock(attention=...)`: MultiHeadAttention or ours
PAD = -1  # token id of the positions after a padded sequence's end (`TokenEmbedding`)


def causal_mask(length) -> tf.Tensor:
    """Bool [length, length]: query i may attend to keys 0..i only."""
    return tf.linalg.band_part(tf.ones([length, length], tf.bool), -1, 0)


def key_mask(keep) -> tf.Tensor:
    """Bool [batch, 1, keys] from keep [batch, keys] (1: a real token, 0: padding)."""
    return tf.cast(keep, tf.bool)[:, tf.newaxis, :]


def scaled_dot_product_attention(query, key, value, mask=None) -> tuple[tf.Tensor, tf.Tensor]:
    """softmax(q·kᵀ / √d) · v over the last two axes.

    Args:
        query: [..., queries, d].
        key: [..., keys, d].
        value: [..., keys, d_v].
        mask: bool, broadcastable to [..., queries, keys]; False scores are never attended.

    Returns:
        (outputs [..., queries, d_v], weights [..., queries, keys]).
    """
    scores = tf.matmul(query, key, transpose_b=True)
    scores /= tf.math.sqrt(tf.cast(tf.shape(key)[-1], scores.dtype))
    if mask is not None:
        # The dtype's most negative value: exp() underflows to exactly 0, also in float16.
        scores = tf.where(mask, scores, tf.cast(scores.dtype.min, scores.dtype))
    weights = tf.nn.softmax(scores, axis=-1)
    return tf.matmul(weights, value), weights


class SelfAttention(tf.keras.layers.Layer):
    """Multi-head attention from scratch: project, split heads, attend, merge, project."""

    def __init__(self, heads: int, key_dim: int, dropout: float = 0.0, **kwargs):
        """`heads` heads of width `key_dim`; dropout on the attention weights."""
        super().__init__(**kwargs)
        self.heads, self.key_dim, self.dropout = int(heads), int(key_dim), float(dropout)
        width = self.heads * self.key_dim
        self.query = tf.keras.layers.Dense(width, name="query")
        self.key = tf.keras.layers.Dense(width, name="key")
        self.value = tf.keras.layers.Dense(width, name="value")
        self.drop = tf.keras.layers.Dropout(self.dropout)
        self.last_weights = None  # [B, heads, T, S] of the latest call (attention maps)

    def build(self, input_shape):
        """The output projection back to the query's width."""
        self.merge = tf.keras.layers.Dense(int(input_shape[-1]), name="output")
        super().build(input_shape)

    def _split(self, x):
        batch, steps = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, [batch, steps, self.heads, self.key_dim])
        return tf.transpose(x, [0, 2, 1, 3])  # [B, heads, T, key_dim]

    def call(self, query, value, attention_mask=None, training=False):
        """Query [B, T, dim], value [B, S, ·], mask bool [B, T, S] → [B, T, dim]."""
        q = self._split(self.query(query))
        k, v = self._split(self.key(value)), self._split(self.value(value))
        mask = None if attention_mask is None else attention_mask[:, tf.newaxis]
        outputs, weights = scaled_dot_product_attention(q, k, v, mask)
        self.last_weights = weights
        outputs = self.drop(outputs, training=training)
        batch, steps = tf.shape(outputs)[0], tf.shape(outputs)[2]
        merged = tf.reshape(
            tf.transpose(outputs, [0, 2, 1, 3]), [batch, steps, self.heads * self.key_dim]
        )
        return self.merge(merged)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {
            **super().get_config(),
            "heads": self.heads,
            "key_dim": self.key_dim,
            "dropout": self.dropout,
        }


def check(kind: str) -> None:
    """Refuses an attention that is not one of `ATTENTION` (hyper-parameters call it early).

    Raises:
        ValueError: naming the choices.
    """
    if kind not in ATTENTION:
        raise ValueError(f"attention {kind!r}: use one of {', '.join(ATTENTION)}")


def attention_layer(kind: str, heads: int, key_dim: int, dropout: float) -> tf.keras.layers.Layer:
    """Keras' `MultiHeadAttention` ('keras') or `SelfAttention` ('scratch')."""
    check(kind)
    if kind == "keras":
        return tf.keras.layers.MultiHeadAttention(heads, key_dim, dropout=dropout)
    return SelfAttention(heads, key_dim, dropout)


def feed_forward(dim: int, dropout: float) -> tf.keras.Sequential:
    """The blocks' MLP: Dense 4·dim (GELU) → Dense dim → dropout."""
    return tf.keras.Sequential(
        [
            tf.keras.layers.Dense(4 * dim, activation="gelu"),
            tf.keras.layers.Dense(dim),
            tf.keras.layers.Dropout(dropout),
        ]
    )


class TransformerBlock(tf.keras.layers.Layer):
    """Pre-LayerNorm self-attention and MLP, each with a residual connection."""

    def __init__(self, dim: int, heads: int, dropout: float, attention: str = "keras", **kwargs):
        """Sub-layers for `dim`-wide tokens, `heads` heads, `attention` in `ATTENTION`."""
        super().__init__(**kwargs)
        self.dim, self.heads, self.dropout_rate = int(dim), int(heads), float(dropout)
        self.kind = attention
        self.norm_attention = tf.keras.layers.LayerNormalization(epsilon=1e-5)
        self.attention = attention_layer(attention, heads, dim // heads, dropout)
        self.norm_mlp = tf.keras.layers.LayerNormalization(epsilon=1e-5)
        self.mlp = feed_forward(dim, dropout)

    def call(self, tokens, attention_mask=None, training=False):
        """Tokens [B, T, dim] and an optional bool [B, T, T] (query, key) mask → [B, T, dim]."""
        x = self.norm_attention(tokens)
        tokens += self.attention(x, x, attention_mask=attention_mask, training=training)
        return tokens + self.mlp(self.norm_mlp(tokens), training=training)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {
            **super().get_config(),
            "dim": self.dim,
            "heads": self.heads,
            "dropout": self.dropout_rate,
            "attention": self.kind,
        }


def encoder(tokens, dim: int, heads: int, blocks: int, dropout: float, kind: str, mask=None):
    """`blocks` TransformerBlocks (`block0`, ...) and a final LayerNorm over tokens [B, T, dim].

    The encoder of the text, time-series and ViT models; `mask` is the blocks' bool
    [B, T, T] (or [B, 1, T]) attention mask, None to attend everywhere.
    """
    for i in range(int(blocks)):
        block = TransformerBlock(
            int(dim), int(heads), float(dropout), attention=kind, name=f"block{i}"
        )
        tokens = block(tokens) if mask is None else block(tokens, mask)
    return tf.keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(tokens)


class DecoderBlock(tf.keras.layers.Layer):
    """Pre-LayerNorm causal self-attention, attention over the encoder's tokens, then an MLP.

    Each of the three sub-layers has its own residual connection (the original
    transformer's decoder layer, normalised before each sub-layer as `TransformerBlock` is).
    """

    def __init__(self, dim: int, heads: int, dropout: float, attention: str = "keras", **kwargs):
        """Sub-layers for `dim`-wide tokens, `heads` heads, `attention` in `ATTENTION`."""
        super().__init__(**kwargs)
        self.dim, self.heads, self.dropout_rate = int(dim), int(heads), float(dropout)
        self.kind = attention
        norm = lambda: tf.keras.layers.LayerNormalization(epsilon=1e-5)  # noqa: E731
        self.norm_self, self.norm_cross, self.norm_mlp = norm(), norm(), norm()
        self.self_attention = attention_layer(attention, heads, dim // heads, dropout)
        self.cross_attention = attention_layer(attention, heads, dim // heads, dropout)
        self.mlp = feed_forward(dim, dropout)

    def call(self, tokens, memory, memory_mask=None, training=False):
        """Tokens [B, T, dim] attend causally to themselves, then to memory [B, S, dim].

        `memory_mask`: bool [B, 1, S] (False: an encoder position that is padding).
        """
        future = causal_mask(tf.shape(tokens)[1])[tf.newaxis]
        x = self.norm_self(tokens)
        tokens += self.self_attention(x, x, attention_mask=future, training=training)
        x = self.norm_cross(tokens)
        tokens += self.cross_attention(x, memory, attention_mask=memory_mask, training=training)
        return tokens + self.mlp(self.norm_mlp(tokens), training=training)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {
            **super().get_config(),
            "dim": self.dim,
            "heads": self.heads,
            "dropout": self.dropout_rate,
            "attention": self.kind,
        }


def decoder(tokens, memory, dim, heads, blocks, dropout, kind, memory_mask=None):
    """`blocks` DecoderBlocks (`decoder0`, ...) and a final LayerNorm over tokens [B, T, dim]."""
    for i in range(int(blocks)):
        block = DecoderBlock(int(dim), int(heads), float(dropout), kind, name=f"decoder{i}")
        tokens = block(tokens, memory, memory_mask)
    return tf.keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(tokens)


@tf.keras.utils.register_keras_serializable(package="kfx")
class TokenEmbedding(tf.keras.layers.Layer):
    """Token ids (`PAD` after the end) → vectors [B, T, dim] and keep [B, T] (1: a real token)."""

    def __init__(self, ids: int, dim: int, **kwargs):
        """`ids`: vocabulary size with its OOV bucket; one more row serves the padding."""
        super().__init__(**kwargs)
        self.ids, self.dim = int(ids), int(dim)
        self.table = tf.keras.layers.Embedding(self.ids + 1, self.dim)

    def call(self, ids):
        """Embeds `ids` shifted by one, so `PAD` (-1) has row 0."""
        ids = tf.cast(ids, tf.int64)
        return self.table(ids - PAD), tf.cast(ids != PAD, tf.float32)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "ids": self.ids, "dim": self.dim}


def sinusoidal(length: int, dim: int) -> np.ndarray:
    """float32 [length, dim]: sin on even, cos on odd channels, wavelengths 2π … 10000·2π."""
    positions = np.arange(length)[:, None]
    rates = np.exp(-math.log(10000.0) * (np.arange(dim) // 2 * 2) / dim)[None, :]
    angles = positions * rates
    return np.where(np.arange(dim) % 2 == 0, np.sin(angles), np.cos(angles)).astype(np.float32)


class PositionEmbedding(tf.keras.layers.Layer):
    """Adds a position code to tokens [B, T, dim]: learned, or fixed sinusoids."""

    def __init__(self, max_length: int, learned: bool = True, **kwargs):
        """Positions 0..max_length-1; `learned` False uses `sinusoidal`."""
        super().__init__(**kwargs)
        self.max_length, self.learned = int(max_length), bool(learned)

    def build(self, input_shape):
        """One `dim`-wide code per position."""
        dim = int(input_shape[-1])
        if self.learned:
            self.codes = self.add_weight(
                name="codes",
                shape=(self.max_length, dim),
                initializer=tf.keras.initializers.RandomNormal(stddev=0.02),
            )
        else:
            self.codes = tf.constant(sinusoidal(self.max_length, dim))
        super().build(input_shape)

    def call(self, tokens):
        """Tokens + the codes of positions 0..T-1."""
        steps = tf.shape(tokens)[1]
        return tokens + tf.cast(self.codes[tf.newaxis, :steps], tokens.dtype)

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "max_length": self.max_length, "learned": self.learned}
