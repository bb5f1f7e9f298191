"""Spoken-digit Transform: the waveform as it is, the word as a class id.

The log-mel spectrogram is computed inside the model (`model.LogMel`), not here: it has no
statistic of the training split to learn, and Transform's output stays the raw audio.
"""

from __future__ import annotations

import tensorflow as tf

from trainers.common import transforms
from trainers.common.features import xf
from trainers.speech_transformer.features import LABEL, SAMPLES, WAVEFORM


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """`waveform_xf` float32 [batch, SAMPLES] and the class id `digit_xf`."""
    wave = tf.reshape(tf.cast(inputs[WAVEFORM], tf.float32), [-1, SAMPLES])
    outputs = {xf(WAVEFORM): wave}
    if LABEL in inputs:
        outputs[xf(LABEL)] = transforms.label(inputs[LABEL], "classification")
    return outputs
