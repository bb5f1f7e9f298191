"""Learning-rate schedules every Keras trainer can pick with `--set lr_schedule=NAME`.

`make(hp, total_steps)` turns a trainer's hyper-parameters into what Keras needs: an optimizer
learning rate (a float or a `LearningRateSchedule` stepped by the optimizer) and the callbacks
that go with it (ReduceLROnPlateau acts between epochs, so it is a callback, not a schedule).

- constant: `learning_rate` throughout.
- exponential: `learning_rate * lr_decay_rate ** (step / decay_steps)`, decay_steps = the
  whole run unless `lr_decay_steps` says otherwise (so the run ends at `lr_decay_rate` × LR).
- piecewise: multiplied by `lr_decay_rate` at each of `lr_boundaries` (default: at 1/2 and 3/4
  of the run).
- one_cycle: Smith's 1cycle (arXiv:1803.09820): from `learning_rate / lr_div_factor` up to
  `learning_rate` over the first `lr_warmup_fraction` of the run, then down to 1e-4 of the
  starting rate at the last step.
- plateau: `learning_rate` multiplied by `lr_plateau_factor` whenever the validation loss has
  not improved for `lr_plateau_patience` epochs.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import tensorflow as tf

NAMES = ("constant", "exponential", "piecewise", "one_cycle", "plateau")
PIECEWISE_AT = (0.5, 0.75)  # default piecewise boundaries, as fractions of the run
FINAL_DIV_FACTOR = 1e4  # 1cycle ends this far below its start (PyTorch OneCycleLR's default)
MIN_LR_FRACTION = 1e-3  # ReduceLROnPlateau never goes below this fraction of the LR


@tf.keras.utils.register_keras_serializable(package="kfx")
class OneCycle(tf.keras.optimizers.schedules.LearningRateSchedule):
    """1cycle: warm up from `max_lr / div_factor` to `max_lr`, then anneal far below the start.

    Args:
        max_lr: the peak learning rate, reached at the end of the warm-up.
        total_steps: optimizer steps of the whole run; the last one gets the final rate.
        warmup_fraction: share of the run spent warming up.
        div_factor: the starting rate is `max_lr / div_factor`.
        final_div_factor: the final rate is the starting rate / `final_div_factor`.
        shape: 'cos' (half-cosine ramps) or 'linear' (Smith's triangle).

    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        warmup_fraction: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = FINAL_DIV_FACTOR,
        shape: str = "cos",
    ):
        if shape not in ("cos", "linear"):
            raise ValueError(f"1cycle shape {shape!r}: use 'cos' or 'linear'")
        self.max_lr = float(max_lr)
        self.total_steps = max(1, int(total_steps))
        self.warmup_fraction = float(warmup_fraction)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        self.shape = shape

    def __call__(self, step):
        """The learning rate at optimizer step `step` (0-based)."""
        step = tf.cast(step, tf.float32)
        start = self.max_lr / self.div_factor
        end = start / self.final_div_factor
        warmup = max(1.0, self.warmup_fraction * (self.total_steps - 1))
        anneal = max(1.0, (self.total_steps - 1) - warmup)
        rising = step < warmup
        progress = tf.clip_by_value(
            tf.where(rising, step / warmup, (step - warmup) / anneal), 0.0, 1.0
        )
        # `remaining` runs 1 → 0 along each phase; cos² keeps the last, tiny rates exact.
        if self.shape == "cos":
            remaining = tf.square(tf.cos(math.pi / 2.0 * progress))
        else:
            remaining = 1.0 - progress
        return tf.where(
            rising,
            self.max_lr + (start - self.max_lr) * remaining,
            end + (self.max_lr - end) * remaining,
        )

    def get_config(self):
        """Constructor arguments (the optimizer's config saves the schedule with the model)."""
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "shape": self.shape,
        }


@dataclasses.dataclass(frozen=True)
class Schedule:
    """What a run needs for one schedule."""

    learning_rate: Any
    """The optimizer's `learning_rate`: a float or a `LearningRateSchedule`."""
    callbacks: list = dataclasses.field(default_factory=list)
    """Callbacks for `fit` (ReduceLROnPlateau for 'plateau')."""


def make(hp, total_steps: int) -> Schedule:
    """The schedule `hp.lr_schedule` over a run of `total_steps` optimizer steps.

    Args:
        hp: a `keras_trainer.FitParams` (learning_rate and the lr_* fields).
        total_steps: optimizer steps of the whole fit; step-based defaults derive from it.

    Raises:
        ValueError: an unknown schedule name, or boundaries that do not increase.

    """
    lr, steps = float(hp.learning_rate), max(1, int(total_steps))
    name = hp.lr_schedule
    if name == "constant":
        return Schedule(lr)
    if name == "exponential":
        decay_steps = hp.lr_decay_steps or steps
        return Schedule(
            tf.keras.optimizers.schedules.ExponentialDecay(lr, decay_steps, hp.lr_decay_rate)
        )
    if name == "piecewise":
        bounds = list(hp.lr_boundaries) or sorted({max(1, int(f * steps)) for f in PIECEWISE_AT})
        if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
            raise ValueError(f"lr_boundaries {tuple(bounds)} must increase")
        values = [lr * hp.lr_decay_rate**i for i in range(len(bounds) + 1)]
        return Schedule(tf.keras.optimizers.schedules.PiecewiseConstantDecay(bounds, values))
    if name == "one_cycle":
        return Schedule(OneCycle(lr, steps, hp.lr_warmup_fraction, hp.lr_div_factor))
    if name == "plateau":
        plateau = tf.keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss",
            factor=hp.lr_plateau_factor,
            patience=hp.lr_plateau_patience,
            min_lr=lr * MIN_LR_FRACTION,
            verbose=0,
        )
        return Schedule(lr, [plateau])
    raise ValueError(f"unknown lr_schedule {name!r}; use one of {', '.join(NAMES)}")


def check_applied(model, hp) -> None:
    """Fails loudly when `hp` asks for a stepped schedule that `model`'s optimizer lacks.

    A builder that compiles with `hp.learning_rate` (a float) instead of `hp` would otherwise
    train at a constant rate whatever `--set lr_schedule=...` said.

    Raises:
        ValueError: naming the schedule and the fix.

    """
    if hp.lr_schedule in ("constant", "plateau") or model.optimizer is None:
        return
    inner = getattr(model.optimizer, "inner_optimizer", model.optimizer)  # LossScaleOptimizer
    rate = getattr(inner, "_learning_rate", None)  # what Keras' own TensorBoard callback reads
    if not isinstance(rate, tf.keras.optimizers.schedules.LearningRateSchedule):
        raise ValueError(
            f"lr_schedule={hp.lr_schedule}: model {model.name!r} was compiled with a constant "
            "learning rate; its builder should call keras_trainer.compile_model(model, ctx, hp) "
            "(or use keras_trainer.optimizer(hp, ctx, model))"
        )


def current(optimizer) -> float:
    """The learning rate `optimizer` used for its latest step (its first one before any).

    With a schedule, Keras keeps the rate it computed for the latest step in a variable;
    LossScaleOptimizer passes its inner optimizer's rate through.
    """
    return float(tf.keras.backend.get_value(optimizer.learning_rate))


class LearningRateLogger(tf.keras.callbacks.Callback):
    """Adds `lr` (the rate of the epoch's last step) to the epoch logs.

    Put it before TensorBoard in the callback list: TensorBoard then writes it as `epoch_lr`.
    """

    def on_epoch_end(self, epoch, logs=None):
        """Records the current learning rate."""
        if logs is not None:
            logs["lr"] = current(self.model.optimizer)
