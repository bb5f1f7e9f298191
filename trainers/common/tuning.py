"""keras-tuner for every Keras trainer: a HyperModel over a task's builder and search space.

A task's search space is `space(kt_hp) -> {field: value}`; the values override the task's
hyper-parameter dataclass, so a trial trains exactly what the Trainer would train with the
same values (schedule callbacks and precision policy included), and the Tuner's best values
map one to one onto the Trainer's fields (`hparams.from_fn_args`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras_tuner as kt

from trainers.common import hparams, precision, schedules

ALGORITHMS = ("random", "bayesian", "hyperband")
HYPERBAND_FACTOR = 3  # keras-tuner's default: each Hyperband round keeps the best third


class HyperModel(kt.HyperModel):
    """`build(ctx, hp)` with `hp` = `default` overridden by the trial's `space(kt_hp)` values.

    Args:
        build: the task's model builder, returning a compiled model.
        ctx: the data context (`keras_trainer.Context`).
        default: the task's hyper-parameters before the search (`--set` values applied).
        space: registers the searched hyper-parameters on `kt_hp` and returns their values.

    """

    def __init__(self, build: Callable, ctx, default, space: Callable[[Any], dict]):
        super().__init__(name=getattr(default, "name", None))
        # Not `_build`: keras-tuner's HyperModel uses that name itself.
        self.builder, self.ctx, self.default, self.space = build, ctx, default, space

    def params(self, kt_hp):
        """The task's hyper-parameters for this trial."""
        return hparams.override(self.default, self.space(kt_hp))

    def build(self, hp):
        """A compiled model under the trial's precision policy."""
        params = self.params(hp)
        with precision.policy(params.precision):
            model = self.builder(self.ctx, params)
        schedules.check_applied(model, params)
        return model

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        """`model.fit` with the callbacks the trial's learning-rate schedule needs."""
        extra = schedules.make(self.params(hp), self.ctx.train_steps).callbacks
        return model.fit(*args, callbacks=[*(callbacks or []), *extra], **kwargs)


def tuner(
    algorithm: str,
    hypermodel: HyperModel,
    objective,
    max_trials: int,
    max_epochs: int,
    **common,
) -> kt.Tuner:
    """A RandomSearch, BayesianOptimization or Hyperband tuner of at most `max_trials` trials.

    Args:
        algorithm: 'random', 'bayesian' or 'hyperband'.
        hypermodel: what to tune.
        objective: a `kt.Objective`.
        max_trials: upper bound on trials (Hyperband stops there too).
        max_epochs: Hyperband's largest per-trial budget (ignored by the others).
        **common: further keras-tuner Tuner arguments (directory, seed, ...).

    Raises:
        ValueError: an unknown algorithm.

    """
    if algorithm == "random":
        return kt.RandomSearch(hypermodel, objective=objective, max_trials=max_trials, **common)
    if algorithm == "bayesian":
        return kt.BayesianOptimization(
            hypermodel, objective=objective, max_trials=max_trials, **common
        )
    if algorithm == "hyperband":
        search = kt.Hyperband(
            hypermodel,
            objective=objective,
            max_epochs=max(1, max_epochs),
            factor=HYPERBAND_FACTOR,
            **common,
        )
        # keras-tuner 1.3.5 leaves max_trials None for Hyperband; TFX's Tuner needs a number,
        # and the oracle stops creating trials once it has this many.
        search.oracle.max_trials = max_trials
        return search
    raise ValueError(f"unknown tuner {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
