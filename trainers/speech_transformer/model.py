"""Spoken digits: waveform → log-mel spectrogram → convolutions → transformer encoder → class.

The spectrogram is a layer of the model (`LogMel`, tf.signal), so the exported model serves
the raw waveform. Strided 1-D convolutions over its frames shorten the sequence and make the
tokens; the blocks are trainers/common/attention's, on Keras' `MultiHeadAttention` or on the
attention written from scratch (`--set attention=scratch`).
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import attention, keras_run, keras_trainer
from trainers.common.features import xf
from trainers.speech_transformer.features import RATE, WAVEFORM


def log_mel(
    waveform,
    rate: int = RATE,
    frame: int = 200,
    step: int = 80,
    mels: int = 40,
    low: float = 20.0,
) -> tf.Tensor:
    """float32 [B, frames, mels]: log of the mel-weighted STFT power of waveforms [B, samples].

    Hann windows of `frame` samples every `step`, mel bands from `low` Hz to Nyquist.
    """
    waveform = tf.cast(waveform, tf.float32)
    fft = 1 << (int(frame) - 1).bit_length()  # the next power of two
    power = tf.abs(tf.signal.stft(waveform, int(frame), int(step), fft)) ** 2
    weights = tf.signal.linear_to_mel_weight_matrix(int(mels), fft // 2 + 1, rate, low, rate / 2)
    return tf.math.log(tf.tensordot(power, weights, 1) + 1e-6)  # ε: silence stays finite


@tf.keras.utils.register_keras_serializable(package="kfx")
class LogMel(tf.keras.layers.Layer):
    """Waveforms [B, samples] → log-mel spectrograms [B, frames, mels] (`log_mel`)."""

    def __init__(self, frame: int = 200, step: int = 80, mels: int = 40, **kwargs):
        """Windows of `frame` samples every `step`, `mels` bands; always computed in float32."""
        kwargs["dtype"] = "float32"  # the STFT under mixed precision loses the quiet bands
        super().__init__(**kwargs)
        self.frame, self.step, self.mels = int(frame), int(step), int(mels)

    def call(self, waveform):
        """The spectrogram of each waveform."""
        return log_mel(waveform, frame=self.frame, step=self.step, mels=self.mels)

    def get_config(self):
        """Constructor arguments, for saving."""
        config = {**super().get_config(), "frame": self.frame, "step": self.step}
        return {**config, "mels": self.mels}


def _bands(batch, size, widest: int, seed: int) -> tf.Tensor:
    """Bool [batch, size]: one run of 0..`widest` positions per example, at a random place."""
    width = tf.random.uniform([batch, 1], 0, widest + 1, tf.int32, seed=seed)
    start = tf.random.uniform([batch, 1], seed=seed + 1) * tf.cast(size - width, tf.float32)
    start = tf.cast(start, tf.int32)
    where = tf.range(size)[tf.newaxis]
    return (where >= start) & (where < start + width)


@tf.keras.utils.register_keras_serializable(package="kfx")
class SpecAugment(tf.keras.layers.Layer):
    """In training only: one band of mels and one run of frames per clip set to the mean."""

    def __init__(self, bands: int = 0, frames: int = 0, seed: int = 42, **kwargs):
        """Masks up to `bands` mel bands and up to `frames` frames (0: none)."""
        super().__init__(**kwargs)
        self.bands, self.frames, self.seed = int(bands), int(frames), int(seed)

    def call(self, spectrogram, training=False):
        """[B, frames, mels] → the same, masked when training."""
        if not training or not (self.bands or self.frames):
            return spectrogram
        shape = tf.shape(spectrogram)
        masked = _bands(shape[0], shape[2], self.bands, self.seed)[:, tf.newaxis, :]
        masked |= _bands(shape[0], shape[1], self.frames, self.seed + 2)[:, :, tf.newaxis]
        mean = tf.reduce_mean(spectrogram, [1, 2], keepdims=True)
        return tf.where(masked, mean * tf.ones_like(spectrogram), spectrogram)

    def get_config(self):
        """Constructor arguments, for saving."""
        config = {**super().get_config(), "bands": self.bands, "frames": self.frames}
        return {**config, "seed": self.seed}


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Speech transformer hyper-parameters."""

    batch_size: int = 32
    """Clips per training batch."""
    learning_rate: float = 1e-3
    """Adam's learning rate (the peak for one_cycle)."""
    mels: int = 40
    """Mel bands of the spectrogram."""
    frame: int = 200
    """STFT window in samples (25 ms at 8 kHz)."""
    step: int = 80
    """STFT hop in samples (10 ms: 98 frames per second)."""
    # Masking took held-out voices of the training split (grouped by voice, the test split
    # untouched) from 0.953 and 0.906 to 0.979 and 0.972; subtracting band means did not help.
    mask_bands: int = 8
    """SpecAugment: mask up to this many adjacent mel bands per training clip (0: none)."""
    mask_frames: int = 10
    """SpecAugment: mask up to this many adjacent frames per training clip (0: none)."""
    convolutions: int = 2
    """Stride-2 convolutions over the frames before the blocks (each halves the tokens)."""
    dim: int = 64
    """Token width (the convolutions' filters)."""
    heads: int = 4
    """Attention heads per block."""
    blocks: int = 2
    """Transformer encoder blocks."""
    dropout: float = 0.1
    """Dropout in the blocks and before the classifier."""
    attention: str = "keras"
    """keras (tf.keras MultiHeadAttention) or scratch (trainers/common/attention.SelfAttention)."""
    name: str = "speech_transformer"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown attention before any work is done."""
        super().__post_init__()
        attention.check(self.attention)


def front_end(x, hp: HParams):
    """Spectrogram [B, frames, mels] → tokens [B, frames / 2^convolutions, dim]."""
    x = tf.keras.layers.BatchNormalization(name="mel_norm")(x)  # log power has no fixed scale
    for i in range(int(hp.convolutions)):
        x = tf.keras.layers.Conv1D(hp.dim, 5 if i == 0 else 3, 2, "same", name=f"conv{i}")(x)
        x = tf.keras.layers.BatchNormalization(name=f"conv{i}_norm")(x)
        x = tf.keras.layers.Activation("gelu", name=f"conv{i}_gelu")(x)
    return x


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Waveform → log-mel → masks (training) → convolutions → positions → blocks → softmax."""
    inputs = ctx.features.keras_inputs()
    x = LogMel(hp.frame, hp.step, hp.mels, name="log_mel")(inputs[xf(WAVEFORM)])
    x = SpecAugment(hp.mask_bands, hp.mask_frames, hp.seed, name="spec_augment")(x)
    x = front_end(x, hp)
    x = attention.PositionEmbedding(int(x.shape[1]), name="positions")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    x = attention.encoder(x, hp.dim, hp.heads, hp.blocks, hp.dropout, hp.attention)
    x = tf.keras.layers.GlobalAveragePooling1D(name="mean")(x)
    x = tf.keras.layers.Dropout(hp.dropout, seed=hp.seed)(x)
    head = tf.keras.Sequential(keras_trainer.output_layer(ctx), name="classifier")
    model = tf.keras.Model(inputs, head(x), name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: width, depth, dropout and the learning rate."""
    return {
        "dim": kt_hp.Choice("dim", [32, 64, 96]),
        "blocks": kt_hp.Choice("blocks", [1, 2, 3]),
        "dropout": kt_hp.Choice("dropout", [0.0, 0.1, 0.2]),
        "learning_rate": kt_hp.Choice("learning_rate", [5e-4, 1e-3, 2e-3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the spoken-digit classifier."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the transformer's size, dropout and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
