"""keras-tuner for every Keras trainer: a HyperModel over a task's builder and search space.

A task's search space is `space(kt_hp) -> {field: value}`; the values override the task's
hyper-parameter dataclass, so a trial trains exactly what the Trainer would train with the
same values (schedule callbacks and precision policy included), and the Tuner's best values
map one to one onto the Trainer's fields (`hparams.from_fn_args`).

Each search shows a progress bar over its trials, and every trial ends by releasing what it
built: the Keras session is cleared and the graphs its tf.functions traced are let go, so
memory stays flat over any number of trials (tests/unit/trainers/test_tuning_memory.py).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

import keras_tuner as kt
import tensorflow as tf

from trainers.common import hparams, precision, progress, schedules

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


def _gradient_registry() -> dict:
    """TensorFlow's global registry of gradient functions (empty if TF moved it)."""
    from tensorflow.python.framework import ops

    return getattr(getattr(ops, "_gradient_registry", None), "_registry", {})


class _Trials:
    """What every search adds to keras-tuner's: a trial bar and a release after each trial.

    In graph mode every `tf.custom_gradient` (the default strategy's all-reduce in each
    traced train step) registers its gradient under a fresh global name and never removes
    it, and that function holds the traced graph: ~4 MB per trial for a tiny MLP, however
    often the Keras session is cleared. A trial's names are dropped once it ended; its
    graphs are never differentiated again.
    """

    def search(self, *args, **kwargs):
        """keras-tuner's search, with the bar over `oracle.max_trials`."""
        with progress.Bar(self.oracle.max_trials or 0, "tuning", "trial") as self._bar:
            return super().search(*args, **kwargs)

    def on_trial_begin(self, trial):
        """Notes the gradient names that exist before the trial."""
        self._names = set(_gradient_registry())
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        """Ends the trial in keras-tuner, then clears the session and the trial's graphs."""
        super().on_trial_end(trial)
        registry, before = _gradient_registry(), getattr(self, "_names", None)
        if before is not None:
            for name in [n for n in registry if n not in before]:
                if str(name).startswith("CustomGradient-"):
                    del registry[name]
        tf.keras.backend.clear_session()
        gc.collect()
        bar = getattr(self, "_bar", None)
        if bar is not None:
            best = self.oracle.get_best_trials(1)
            score = best[0].score if best and best[0].score is not None else None
            bar.update(1, **({"best": float(score)} if score is not None else {}))


class RandomSearch(_Trials, kt.RandomSearch):
    """keras-tuner's RandomSearch, trial by trial released and shown."""


class BayesianOptimization(_Trials, kt.BayesianOptimization):
    """keras-tuner's BayesianOptimization, trial by trial released and shown."""


class Hyperband(_Trials, kt.Hyperband):
    """keras-tuner's Hyperband, trial by trial released and shown."""


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
        return RandomSearch(hypermodel, objective=objective, max_trials=max_trials, **common)
    if algorithm == "bayesian":
        return BayesianOptimization(
            hypermodel, objective=objective, max_trials=max_trials, **common
        )
    if algorithm == "hyperband":
        search = Hyperband(
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
