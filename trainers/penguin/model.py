"""Penguin species classifier: the course's Sequential MLP with penguin-sized defaults."""

from __future__ import annotations

import dataclasses

from trainers.common import keras_run, mlp


@dataclasses.dataclass(frozen=True)
class HParams(mlp.HParams):
    """Penguin defaults: 342 rows of 6 features need a small, lightly regularised net."""

    units: int = 16
    """Width of each hidden layer."""
    name: str = "penguin_mlp"
    """Model name."""


RECIPE = keras_run.Recipe(HParams(), mlp.build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the penguin MLP."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the penguin MLP's width, depth, learning rate and its schedule."""
    return keras_run.tuner(fn_args, RECIPE, mlp.search_space)
