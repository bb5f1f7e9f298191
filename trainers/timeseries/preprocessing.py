"""Forecasting Transform: the window min-max scaled on the train split, and its last value."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common import transforms
from trainers.common.features import xf
from trainers.timeseries.features import LAST, TARGET, WINDOW


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """`window_xf` in [0, 1] over the training values, `last_xf` and the float `target_xf`.

    `tft.scale_to_0_1` takes one min and max over every value of every training window (one
    scale for all series, so one model serves them all); `last_xf` keeps the newest value in
    the series' units, which the model's forecast is a correction of.
    """
    window = tf.cast(inputs[WINDOW], tf.float32)
    outputs = {xf(WINDOW): tft.scale_to_0_1(window), xf(LAST): window[:, -1]}
    if TARGET in inputs:
        outputs[xf(TARGET)] = transforms.label(inputs[TARGET], "regression")
    return outputs
