"""Feature extractors to transfer: another task's pushed model, or a tf.keras.applications net.

A backbone maps one image tensor [batch, h, w, c] to a feature tensor; a task puts a new head
on it (trainers/transfer). Nothing here downloads weights: VGG16 takes `weights=None` or a
local weights file.
"""

from __future__ import annotations

import tensorflow as tf

VGG16_MIN_SIZE = 32  # tf.keras.applications.VGG16 refuses inputs smaller than 32x32
HEAD_LAYERS = ("Dense", "Dropout")  # where a classifier's head starts (cnn_vgg, cnn_resnet)


def serving_dir(model_uri: str) -> str:
    """The SavedModel folder inside a TFX Model artifact (`fn_args.base_model` or its URI)."""
    from tfx.utils import path_utils

    if tf.io.gfile.exists(f"{model_uri}/saved_model.pb"):
        return model_uri
    return path_utils.serving_model_dir(model_uri)


def load_pushed(model_uri: str) -> tf.keras.Model:
    """The Keras model inside a pushed model (signatures.export), without its optimizer."""
    return tf.keras.models.load_model(serving_dir(model_uri), compile=False)


def pushed(model: tf.keras.Model, layer: str = "", name: str = "backbone") -> tf.keras.Model:
    """The image → features part of a trained image classifier.

    Args:
        model: a Functional model with one image input (e.g. `load_pushed` of a CNN task).
        layer: the layer whose output is the feature vector; empty: the input of the first
            Dense or Dropout layer, i.e. what the model's classifier head reads.
        name: the backbone's name.

    Raises:
        ValueError: no such layer, or no head to cut off (the message names the layers).

    """
    names = [f"{lay.name} ({type(lay).__name__})" for lay in model.layers]
    if layer:
        try:
            features = model.get_layer(layer).output
        except ValueError:
            raise ValueError(
                f"backbone_layer={layer!r} is not a layer of {model.name}; layers: {names}"
            ) from None
    else:
        heads = [lay for lay in model.layers if type(lay).__name__ in HEAD_LAYERS]
        if not heads:
            raise ValueError(
                f"{model.name} has no Dense/Dropout head to cut off; pick the feature layer "
                f"with --set backbone_layer=NAME; layers: {names}"
            )
        features = heads[0].input
    return tf.keras.Model(model.inputs[0], features, name=name)


@tf.keras.utils.register_keras_serializable(package="kfx")
class ToRGB(tf.keras.layers.Layer):
    """Gray images in [0, 1] → `size`x`size` RGB in VGG16's input scale (caffe, 0..255 BGR)."""

    def __init__(self, size: int, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs):
        """Resized, 3 channels, mean-subtracted like ImageNet training."""
        x = tf.image.resize(tf.cast(inputs, tf.float32), [self.size, self.size])
        x = tf.image.grayscale_to_rgb(x) if x.shape[-1] == 1 else x
        return tf.keras.applications.vgg16.preprocess_input(x * 255.0)

    def get_config(self):
        """Serializable constructor arguments."""
        return {**super().get_config(), "size": self.size}


def vgg16(
    image_shape: tuple[int, ...], weights: str | None = None, size: int = VGG16_MIN_SIZE
) -> tf.keras.Model:
    """VGG16's convolutional base on small gray images, resized to `size` inside the model.

    Args:
        image_shape: the task's image shape [h, w, channels] (digits: 8, 8, 1).
        weights: None (random initialisation) or a local `.h5` file of VGG16 `notop` weights;
            never 'imagenet' (that downloads).
        size: the side the images are resized to (at least 32).

    Raises:
        ValueError: `weights` asks for a download, or `size` is below VGG16's minimum.

    """
    if weights == "imagenet":
        raise ValueError(
            "backbone_weights=imagenet would download; pass a local VGG16 notop .h5 file"
        )
    if size < VGG16_MIN_SIZE:
        raise ValueError(f"VGG16 needs images of at least {VGG16_MIN_SIZE}x{VGG16_MIN_SIZE}")
    image = tf.keras.Input(image_shape, name="image")
    x = ToRGB(size, name="to_rgb")(image)
    base = tf.keras.applications.VGG16(
        include_top=False, weights=weights or None, input_shape=(size, size, 3)
    )
    x = tf.keras.layers.GlobalAveragePooling2D(name="vgg16_pool")(base(x))
    return tf.keras.Model(image, x, name="backbone")
