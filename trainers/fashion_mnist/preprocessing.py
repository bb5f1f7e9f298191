"""Fashion-MNIST Transform: pixels / 255, shaped as 28x28x1 images."""

from __future__ import annotations

import tensorflow as tf

from trainers.common import transforms
from trainers.common.features import xf
from trainers.fashion_mnist.features import HEIGHT, IMAGE, LABEL, WIDTH

MAX_INTENSITY = 255.0  # the IDX files' uint8 range; a fixed scale needs no full pass


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """Raw images → `pixels_xf` [batch, 28, 28, 1] in [0, 1] and the class id `label_xf`."""
    pixels = tf.cast(inputs[IMAGE], tf.float32) / MAX_INTENSITY
    outputs = {xf(IMAGE): tf.reshape(pixels, [-1, HEIGHT, WIDTH, 1])}
    if LABEL in inputs:
        outputs[xf(LABEL)] = transforms.label(inputs[LABEL], "classification")
    return outputs
