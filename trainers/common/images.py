"""Image-model pieces shared by the course's CNNs: the image input and data augmentation."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common.keras_trainer import FitParams


@dataclasses.dataclass(frozen=True)
class ImageParams(FitParams):
    """What the digits CNNs share: their batch, learning rate and augmentation."""

    batch_size: int = 64
    """Examples per training batch."""
    learning_rate: float = 2e-3
    """Adam's learning rate."""
    translate: float = 0.1
    """Augmentation: largest shift, as a fraction of the image size."""
    rotate: float = 0.03
    """Augmentation: largest rotation, as a fraction of a full turn."""
    zoom: float = 0.1
    """Augmentation: largest zoom in or out."""
    flip: bool = False
    """Augmentation: random left-right mirroring (clothes survive it; digits do not)."""


def image_key(features) -> str:
    """The key of an image task's one image feature (per-example shape [h, w, channels]).

    Args:
        features: the task's `InputFeatures`; exactly one of them has a 3-d shape.

    Raises:
        ValueError: no image feature, or more than one.

    """
    images = [k for k, shape in features.shapes.items() if len(shape) == 3]
    if len(images) != 1:
        raise ValueError(
            f"an image model needs exactly one [height, width, channels] feature; the "
            f"transformed features with shapes are {dict(features.shapes)}"
        )
    return images[0]


def image_input(features) -> tuple[dict, tf.Tensor]:
    """The named Keras inputs of an image task and its one image tensor [batch, h, w, c]."""
    inputs = features.keras_inputs()
    return inputs, inputs[image_key(features)]


def augmentation(
    translate: float,
    rotate: float,
    zoom: float,
    seed: int,
    name: str = "augmentation",
    flip: bool = False,
) -> tf.keras.Sequential:
    """Random shifts, rotations, zooms (and flips): active in training, the identity at inference.

    Args:
        translate: largest shift, as a fraction of the height and width.
        rotate: largest rotation, as a fraction of a full turn.
        zoom: largest zoom in or out, as a fraction of the size.
        seed: seed of the random transformations.
        name: the layer's name.
        flip: also mirror left-right at random (off by default: it turns digits into other
            shapes).

    Emptied pixels are filled with 0 (the background after Transform's scaling); a factor of
    0 adds no layer.
    """
    fill = {"fill_mode": "constant", "fill_value": 0.0, "seed": seed}
    layers = [tf.keras.layers.RandomFlip("horizontal", seed=seed)] if flip else []
    if translate:
        layers.append(tf.keras.layers.RandomTranslation(translate, translate, **fill))
    if rotate:
        layers.append(tf.keras.layers.RandomRotation(rotate, **fill))
    if zoom:
        layers.append(tf.keras.layers.RandomZoom(zoom, zoom, **fill))
    return tf.keras.Sequential(layers, name=name)


def augment(image: tf.Tensor, hp: ImageParams) -> tf.Tensor:
    """`image` through `hp`'s augmentation, or unchanged when it has nothing to do (no layers)."""
    if not (hp.translate or hp.rotate or hp.zoom or hp.flip):
        return image
    return augmentation(hp.translate, hp.rotate, hp.zoom, hp.seed, flip=hp.flip)(image)
