"""The two ends of every forecasting model: window inputs, and a correction of the last value."""

from __future__ import annotations

import tensorflow as tf

from trainers.common.features import xf
from trainers.timeseries.features import LAST, WINDOW


@tf.keras.utils.register_keras_serializable(package="kfx")
class LastValuePlus(tf.keras.layers.Layer):
    """forecast = last value + `scale` × correction: an untrained model is the naive forecast."""

    def __init__(self, scale: float, **kwargs):
        """`scale`: the label's spread, so the correction layer works in standard units."""
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, last, correction):
        """Last [B], correction [B, 1] → [B, 1] in the series' units."""
        return tf.reshape(last, [-1, 1]) + self.scale * correction

    def get_config(self):
        """Constructor arguments, for saving."""
        return {**super().get_config(), "scale": self.scale}


def window_inputs(ctx) -> tuple[dict, tf.Tensor, tf.Tensor]:
    """(Keras inputs, the scaled window as a sequence [B, length, 1], the last value [B])."""
    inputs = ctx.features.keras_inputs()
    sequence = tf.keras.layers.Reshape((-1, 1), name="as_sequence")(inputs[xf(WINDOW)])
    return inputs, sequence, inputs[xf(LAST)]


def forecast_output(ctx, hidden: tf.Tensor, last: tf.Tensor, window=None) -> tf.Tensor:
    """The forecast from a summary `hidden` [B, d] of the window (float32, zero at the start).

    With `window` (the scaled sequence [B, length, 1]) a linear term of its values relative to
    the newest joins the correction: an autoregressive highway, so the network only has to
    learn what a linear forecaster cannot.
    """
    correction = tf.keras.layers.Dense(
        1, kernel_initializer="zeros", name="correction", dtype="float32"
    )(hidden)
    if window is not None:
        relative = tf.keras.layers.Lambda(lambda s: (s - s[:, -1:])[:, :, 0], name="highway_in")(
            window
        )
        linear = tf.keras.layers.Dense(
            1, kernel_initializer="zeros", name="highway", dtype="float32"
        )(relative)
        correction = tf.keras.layers.Add(name="corrections", dtype="float32")([correction, linear])
    return LastValuePlus(ctx.label_std, name="output", dtype="float32")(last, correction)
