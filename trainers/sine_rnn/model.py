"""A stack of recurrent layers (SimpleRNN, LSTM or GRU) forecasting the next value."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import keras_run, keras_trainer
from trainers.timeseries import forecast

CELLS = {
    "simple_rnn": tf.keras.layers.SimpleRNN,
    "lstm": tf.keras.layers.LSTM,
    "gru": tf.keras.layers.GRU,
}


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Recurrent forecaster hyper-parameters."""

    batch_size: int = 64
    """Windows per training batch."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    cell: str = "gru"
    """Recurrent layer: simple_rnn, lstm or gru."""
    units: int = 64
    """Width of each recurrent layer (64 reached 0.28x the last value's RMSE, 32 0.30x)."""
    layers: int = 2
    """Recurrent layers stacked (all but the last return sequences)."""
    highway: bool = True
    """Add a linear term of the window to the forecast (an autoregressive highway)."""
    name: str = "sine_rnn"
    """Model name."""

    def __post_init__(self):
        """Rejects an unknown cell before any work is done."""
        super().__post_init__()
        if self.cell not in CELLS:
            raise ValueError(f"cell {self.cell!r}: use one of {', '.join(CELLS)}")


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Window → recurrent layers → the last state → a correction of the last value."""
    inputs, sequence, last = forecast.window_inputs(ctx)
    x = sequence
    for i in range(int(hp.layers)):
        more = i < int(hp.layers) - 1
        x = CELLS[hp.cell](int(hp.units), return_sequences=more, name=f"{hp.cell}{i}")(x)
    out = forecast.forecast_output(ctx, x, last, sequence if hp.highway else None)
    model = tf.keras.Model(inputs, out, name=hp.name)
    return keras_trainer.compile_model(model, ctx, hp)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: the cell, its width and the learning rate."""
    return {
        "cell": kt_hp.Choice("cell", list(CELLS)),
        "units": kt_hp.Choice("units", [16, 32, 64]),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the recurrent forecaster."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the cell, its width and the learning rate."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
