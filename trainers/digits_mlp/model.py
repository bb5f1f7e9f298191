"""Digits MLP: the course's Sequential MLP (He init, BatchNorm, dropout, L1/L2) on 64 pixels."""

from __future__ import annotations

import dataclasses

from trainers.common import keras_run, mlp


@dataclasses.dataclass(frozen=True)
class HParams(mlp.HParams):
    """Digits defaults: ~1200 training images of 64 pixels need a wider, regularised net."""

    batch_size: int = 64
    """Examples per training batch."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    units: int = 128
    """Width of each hidden layer."""
    layers: int = 2
    """Number of hidden Dense-BatchNorm-ReLU-Dropout blocks."""
    dropout: float = 0.2
    """Dropout rate after each hidden block."""
    l1: float = 1e-5
    """L1 penalty on hidden kernels."""
    l2: float = 1e-4
    """L2 penalty on hidden kernels."""
    name: str = "digits_mlp"
    """Model name."""


RECIPE = keras_run.Recipe(HParams(), mlp.build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the digits MLP."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the digits MLP's width, depth and learning rate."""
    return keras_run.tuner(fn_args, RECIPE, mlp.search_space)
