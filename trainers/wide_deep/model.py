"""Wide & deep regression (Functional API) with an auxiliary output, after the course.

The wide part feeds every input (z-scores, one-hot origin and origin × cylinders) straight
into the main output, so the model contains a linear regression; the deep part is a stack of
Dense layers on the measurements, whose last layer also feeds an auxiliary output. The
auxiliary loss (weight `aux_weight`) makes the deep part useful on its own; the Evaluator
reports its RMSE without gating on it.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers.common import keras_run, keras_trainer
from trainers.common.layers import FeatureVector
from trainers.wide_deep.features import AUX, MAIN


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Wide & deep hyper-parameters (the course's 2 × Dense(30) deep part)."""

    units: int = 30
    """Width of each deep layer."""
    layers: int = 2
    """Number of deep ReLU layers."""
    main_weight: float = 0.9
    """Loss weight of the main output."""
    aux_weight: float = 0.1
    """Loss weight of the auxiliary output (deep part alone)."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    name: str = "wide_deep"
    """Model name."""


def build(ctx: keras_trainer.Context, hp: HParams) -> tf.keras.Model:
    """Named inputs → wide (linear) and deep paths → main output; deep path → aux output."""
    features = ctx.features
    inputs = {k: tf.keras.Input((), name=k) for k in features.numeric} | {
        k: tf.keras.Input((), name=k, dtype=tf.int64) for k in features.categorical
    }
    wide = FeatureVector(features.numeric, features.categorical, name="wide")(inputs)
    deep = FeatureVector(features.numeric, {}, name="deep_inputs")(inputs)
    for i in range(hp.layers):
        deep = tf.keras.layers.Dense(
            hp.units, activation="relu", kernel_initializer="he_normal", name=f"deep_{i}"
        )(deep)
    heads = {head.name: head for head in ctx.heads}
    both = tf.keras.layers.Concatenate(name="wide_and_deep")([wide, deep])
    outputs = {
        MAIN: keras_trainer.head_output(heads[MAIN], both),
        AUX: keras_trainer.head_output(heads[AUX], deep),
    }
    model = tf.keras.Model(inputs, outputs, name=hp.name)
    weights = {MAIN: hp.main_weight, AUX: hp.aux_weight}
    return keras_trainer.compile_model(model, ctx, hp, loss_weights=weights)


def search_space(kt_hp) -> dict:
    """What `--tune` searches: deep width and depth, learning rate, auxiliary loss weight."""
    return {
        "units": kt_hp.Choice("units", [16, 30, 64]),
        "layers": kt_hp.Int("layers", 1, 3),
        "learning_rate": kt_hp.Choice("learning_rate", [1e-3, 3e-3, 1e-2]),
        "aux_weight": kt_hp.Choice("aux_weight", [0.1, 0.3]),
    }


RECIPE = keras_run.Recipe(HParams(), build)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Trains and exports the wide & deep model."""
    keras_run.run(fn_args, RECIPE)


# TFX Tuner calls this.
def tuner_fn(fn_args):
    """Searches the deep part's size, the learning rate and the auxiliary weight."""
    return keras_run.tuner(fn_args, RECIPE, search_space)
