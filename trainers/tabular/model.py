"""Tabular model for user CSVs: the course's MLP, sized for data we have not seen."""

from __future__ import annotations

import dataclasses

from trainers.common import keras_run, mlp


@dataclasses.dataclass(frozen=True)
class HParams(mlp.HParams):
    """Defaults for an unknown CSV: wider, with a gentler learning rate."""

    units: int = 32
    """Width of each hidden layer."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    name: str = "tabular_mlp"
    """Model name."""


RECIPE = keras_run.Recipe(HParams(), mlp.build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports an MLP for the task's CSV."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the tabular MLP's width, depth, learning rate and its schedule."""
    return keras_run.tuner(fn_args, RECIPE, mlp.search_space)
