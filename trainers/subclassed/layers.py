"""The subclassed model and its custom layer (keras-io style: only __init__ and call)."""

from __future__ import annotations

import tensorflow as tf


class DenseBlock(tf.keras.layers.Layer):
    """Dense (He init, L2) → BatchNormalization → ReLU → Dropout, as one custom layer."""

    def __init__(self, units: int, dropout: float, l2: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.dense = tf.keras.layers.Dense(
            units,
            use_bias=False,
            kernel_initializer=tf.keras.initializers.HeNormal(seed),
            kernel_regularizer=tf.keras.regularizers.l2(l2),
        )
        self.norm = tf.keras.layers.BatchNormalization()
        self.dropout = tf.keras.layers.Dropout(dropout, seed=seed)

    def call(self, inputs, training=None):
        """The block's activations; dropout and batch statistics only in training."""
        x = self.norm(self.dense(inputs), training=training)
        return self.dropout(tf.nn.relu(x), training=training)


class DigitsClassifier(tf.keras.Model):
    """Flattened image → DenseBlocks → softmax, written with the Subclassing API."""

    def __init__(self, image_key: str, n_classes: int, hp, **kwargs):
        super().__init__(name=hp.name, **kwargs)
        self.image_key = image_key
        self.flatten = tf.keras.layers.Flatten()
        self.blocks = [
            DenseBlock(hp.units, hp.dropout, hp.l2, hp.seed + i, name=f"block{i}")
            for i in range(hp.layers)
        ]
        # float32 under a mixed precision policy too: the loss and the signatures see float32.
        self.head = tf.keras.layers.Dense(
            n_classes, activation="softmax", name="output", dtype="float32"
        )

    def call(self, inputs, training=None):
        """Class probabilities for a dict of transformed features."""
        x = self.flatten(inputs[self.image_key])
        for block in self.blocks:
            x = block(x, training=training)
        return self.head(x)
