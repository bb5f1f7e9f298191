"""Small Keras layers shared by the course's models."""

from __future__ import annotations

import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="kfx")
class FeatureVector(tf.keras.layers.Layer):
    """Concatenates float features (flattened) and one-hot encoded id features into one vector."""

    def __init__(self, numeric, categorical, **kwargs):
        super().__init__(**kwargs)
        self.numeric = list(numeric)
        self.categorical = dict(categorical)

    def call(self, inputs):
        """One float vector per example."""
        parts = [
            tf.reshape(
                tf.cast(inputs[k], tf.float32), [-1, inputs[k].shape[1:].num_elements() or 1]
            )
            for k in self.numeric
        ]
        parts += [
            tf.one_hot(tf.reshape(inputs[k], [-1]), depth) for k, depth in self.categorical.items()
        ]
        return tf.concat(parts, axis=-1)

    def get_config(self):
        """Serializable constructor arguments."""
        return {**super().get_config(), "numeric": self.numeric, "categorical": self.categorical}


@tf.keras.utils.register_keras_serializable(package="kfx")
class Denormalize(tf.keras.layers.Layer):
    """Maps a standardised regression output back to label units: y = z * std + mean."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean = float(mean)
        self.std = float(std)

    def call(self, inputs):
        """Back to label units."""
        return inputs * self.std + self.mean

    def get_config(self):
        """Serializable constructor arguments."""
        return {**super().get_config(), "mean": self.mean, "std": self.std}
