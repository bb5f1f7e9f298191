"""Penguin species classifier: the course's Sequential MLP with penguin-sized defaults."""

from __future__ import annotations

import dataclasses

from trainers.common import keras_trainer, mlp


@dataclasses.dataclass(frozen=True)
class HParams(mlp.HParams):
    """Penguin defaults: 342 rows of 6 features need a small, lightly regularised net."""

    units: int = 16
    """Width of each hidden layer."""
    name: str = "penguin_mlp"
    """Model name."""


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the penguin MLP."""
    keras_trainer.run(fn_args, mlp.build, HParams())


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the penguin MLP's width, depth, learning rate and its schedule."""
    return keras_trainer.tuner(fn_args, mlp.build, HParams(), mlp.search_space)
