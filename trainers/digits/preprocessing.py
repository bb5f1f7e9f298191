"""Digits Transform: pixels scaled to [0, 1] over the data, shaped as 8x8x1 images."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_transform as tft

from trainers.common import transforms
from trainers.common.features import xf
from trainers.digits.features import HEIGHT, IMAGE, LABEL, WIDTH


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """Raw digits → `pixels_xf` [batch, 8, 8, 1] in [0, 1] and the class id `label_xf`.

    The scale comes from the data's minimum and maximum intensity (tft analyzers), so serving
    applies exactly the training scale; the label vocabulary is the shared class vocabulary
    that `signatures.export` maps predictions back through.
    """
    pixels = tft.scale_to_0_1(tf.cast(inputs[IMAGE], tf.float32))
    outputs = {xf(IMAGE): tf.reshape(pixels, [-1, HEIGHT, WIDTH, 1])}
    if LABEL in inputs:
        outputs[xf(LABEL)] = transforms.label(inputs[LABEL], "classification")
    return outputs
