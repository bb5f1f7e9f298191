"""One Keras training run for every Keras trainer: `run` (TFX Trainer) and `tuner` (Tuner).

seed → data → hparams.json → distribution strategy and precision policy → build → schedule
check → warm start → callbacks → fit (or the recipe's own loop or phases) → export →
fit.json. A trainer plugs in only what differs, as a `Recipe`: its hyper-parameters and
builder, and where needed its own fit, data, exported model or export.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

import tensorflow as tf
from absl import logging

from trainers import contract
from trainers.common import (
    attention_maps,
    board,
    callbacks,
    distribute,
    examples,
    hparams,
    keras_trainer,
    precision,
    resume,
    schedules,
)
from trainers.common.keras_trainer import TrainData

HPARAMS_FILE = "hparams.json"  # in model_run: what the Trainer trained with, for people and tests
FIT_FILE = "fit.json"  # in model_run: how it trained (dtype policy, strategy, epochs, final LR)


def fit_schedule(train_steps: int, hp) -> dict[str, int]:
    """`fit`'s steps_per_epoch and epochs for a budget of `train_steps` optimizer steps."""
    steps = max(1, min(hp.steps_per_epoch, train_steps))
    return {"steps_per_epoch": steps, "epochs": max(1, train_steps // steps)}


def with_steps(ctx, train_steps: int, hp):
    """`ctx` whose `train_steps` are what `fit_schedule` fits of a `train_steps` budget."""
    schedule = fit_schedule(train_steps, hp)
    return dataclasses.replace(ctx, train_steps=schedule["steps_per_epoch"] * schedule["epochs"])


@dataclasses.dataclass(frozen=True)
class Plan:
    """How the run fits the model: what a recipe's `fit` gets."""

    hp: Any
    """The effective hyper-parameters."""
    ctx: Any
    """The builder's context; its `train_steps` are steps_per_epoch × epochs."""
    train: Any
    """Training batches, repeated."""
    val: Any
    """Validation data, read once per epoch."""
    steps_per_epoch: int
    """Optimizer steps between validations."""
    epochs: int
    """Most epochs (early stopping may end sooner)."""
    callbacks: tuple
    """The run's callbacks (`callbacks.for_run`), in the order `fit` should call them."""
    log_dir: str | None
    """Where the callbacks log (`fn_args.model_run_dir`); None: no TensorBoard or checkpoints."""
    train_steps: int
    """The step budget (`fn_args.train_steps`) that the epochs above divide."""
    strategy: Any
    """The distribution strategy the model was built in: compile again inside its scope."""
    backup: bool = True
    """Whether the callbacks include BackupAndRestore."""

    def phase(self, name: str, steps: int, hp=None) -> Plan:
        """The plan of one phase of a multi-phase fit: `steps` steps logged under `name`/.

        Its callbacks are fresh (a schedule spanning the phase, early stopping of its own)
        and its context's `train_steps` are the phase's, for the phase's compile.
        """
        hp = hp or self.hp
        ctx = with_steps(self.ctx, steps, hp)
        log_dir = os.path.join(self.log_dir, name) if self.log_dir else None
        found = callbacks.for_run(log_dir, hp, ctx.train_steps, backup=self.backup)
        return dataclasses.replace(
            self,
            hp=hp,
            ctx=ctx,
            log_dir=log_dir,
            train_steps=steps,
            callbacks=tuple(found),
            **fit_schedule(steps, hp),
        )


def keras_fit(model: tf.keras.Model, plan: Plan):
    """One `model.fit` as the plan says (what a `Recipe` does unless it has its own `fit`)."""
    return model.fit(
        plan.train,
        validation_data=plan.val,
        callbacks=list(plan.callbacks),
        verbose=0,
        steps_per_epoch=plan.steps_per_epoch,
        epochs=plan.epochs,
    )


def _same(model: tf.keras.Model) -> tf.keras.Model:
    return model


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What one Keras trainer plugs into the run; the run does everything else once."""

    params: keras_trainer.FitParams
    """The trainer's default hyper-parameters; the task's, `--set` and Tuner values override."""
    build: Callable[[Any, Any], tf.keras.Model]
    """`build(ctx, hp)`: the model, called under the run's strategy and precision policy;
    compiled, unless the recipe's `fit` compiles it (transfer's phases)."""
    fit: Callable[[tf.keras.Model, Plan], Any] = keras_fit
    """`fit(model, plan)`: one `model.fit`, or a recipe's custom loop or phases."""
    data: Callable[[Any, contract.TrainerConfig, Any], TrainData] = examples.load
    """`data(fn_args, config, hp)`: the datasets and the builder's context."""
    exported: Callable[[tf.keras.Model], tf.keras.Model] = _same
    """`exported(model)`: the model to export in the trained one's place (a student)."""
    export: Callable[[tf.keras.Model, str, TrainData, Any], None] = examples.export
    """`export(model, serving_dir, data, hp)`: writes the SavedModel and its manifest."""
    warm_start: Callable[[tf.keras.Model, str], Any] | None = keras_trainer.warm_start
    """`warm_start(model, base_model)` when the Trainer has a base model; None: the base
    model is something `build` uses (`ctx.base_model`: a backbone, a teacher)."""
    backup: bool = True
    """Whether the callbacks include BackupAndRestore (False for a loop without `fit`)."""


def prepare(fn_args, recipe: Recipe) -> tuple[Any, TrainData]:
    """What the Trainer and the Tuner share: the effective, seeded hyper-parameters and data.

    Returns:
        (hp, data): defaults, then `TrainerConfig.hparams`, then a Tuner's best values; and
        `recipe.data`'s datasets and context.

    """
    config = contract.TrainerConfig.from_fn_args(fn_args)
    hp = hparams.from_fn_args(recipe.params, fn_args)
    tf.keras.utils.set_random_seed(hp.seed)
    return hp, recipe.data(fn_args, config, hp)


def train(
    recipe: Recipe,
    hp,
    data: TrainData,
    train_steps: int,
    log_dir: str | None,
    base_model: str | None = None,
) -> tuple[tf.keras.Model, Plan]:
    """Builds `recipe`'s model in the strategy under `hp.precision` and fits it (seed first).

    Returns:
        (the trained model, the plan it was fitted with).

    """
    strategy = distribute.strategy()
    ctx = with_steps(data.ctx, train_steps, hp)
    found = callbacks.for_run(log_dir, hp, ctx.train_steps, backup=recipe.backup)
    with strategy.scope(), precision.policy(hp.precision):
        model = recipe.build(ctx, hp)
    schedules.check_applied(model, hp)
    if base_model and recipe.warm_start is not None:
        recipe.warm_start(model, base_model)
    plan = Plan(
        hp,
        ctx,
        data.train,
        data.val,
        callbacks=tuple(found),
        log_dir=log_dir,
        train_steps=train_steps,
        strategy=strategy,
        backup=recipe.backup,
        **fit_schedule(train_steps, hp),
    )
    recipe.fit(model, plan)
    return model, plan


def record(model: tf.keras.Model, plan: Plan) -> dict[str, Any]:
    """How the model was trained, for `FIT_FILE`: its dtype policy, the strategy, the fit."""
    layers = [m for m in model.submodules if isinstance(m, tf.keras.layers.Layer)]
    rate = schedules.current(model.optimizer) if model.optimizer is not None else None
    return {
        "dtype_policy": model.dtype_policy.name,
        "compute_dtypes": sorted({layer.compute_dtype for layer in layers if layer.compute_dtype}),
        "strategy": type(plan.strategy).__name__,
        "steps_per_epoch": plan.steps_per_epoch,
        "epochs": plan.epochs,
        "final_learning_rate": rate,
    }


def write_json(model_run_dir: str, name: str, values: dict) -> str:
    """Writes `values` as model_run_dir/name (local or remote); returns the path."""
    path = os.path.join(model_run_dir, name)
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(values, indent=2, sort_keys=True))
    return path


def write_hparams(model_run_dir: str, hp) -> str:
    """Writes the effective hyper-parameters (defaults, `--set`, Tuner) as hparams.json."""
    return write_json(model_run_dir, HPARAMS_FILE, dataclasses.asdict(hp))


def pictures(served: tf.keras.Model, data: TrainData, log_dir: str | None, step: int) -> None:
    """The confusion matrix (or predictions against the truth), attention maps, the op graph.

    (Keras' TensorBoard callback logs only the conceptual graph: `fit` traces the train step
    after the callback looked for it.) Pictures never fail a run: a model they cannot
    handle is logged and trained as usual.
    """
    if not log_dir:
        return
    try:
        board.log_confusion_matrices(served, data.val, data.ctx, log_dir, step)
        board.log_forecast(served, data.val, data.ctx, log_dir, step)
        attention_maps.log(served, data.val, log_dir, step)
        board.log_graph(served, data.val, log_dir)
    except Exception as err:  # noqa: BLE001 (pictures are extras; the model is what counts)
        logging.warning("TensorBoard pictures skipped: %s", err)


def base_model_of(fn_args) -> str | None:
    """The Trainer's base model folder, or None when it holds no SavedModel.

    A pipeline compiled for open-source Kubeflow looks the model up in the push folder and
    hands an empty (absent-marked) Model before anything was pushed: nothing to warm-start.
    """
    found = fn_args.base_model
    if found and not tf.io.gfile.exists(f"{found}/saved_model.pb"):
        logging.info("base model %s holds no SavedModel: training from scratch", found)
        return None
    return found or None


def run(fn_args, recipe: Recipe) -> tf.keras.Model:
    """Trains `recipe` on the Trainer's data and exports it for serving (a `run_fn`'s body).

    Returns:
        The trained model (not the exported one, when `recipe.exported` picks another).

    """
    hp, data = prepare(fn_args, recipe)
    write_hparams(fn_args.model_run_dir, hp)  # first: a failed run still says what it tried
    if recipe.backup:  # a Trainer killed mid-fit left its backup in an earlier attempt's folder
        resume.adopt(fn_args.model_run_dir, resume.fingerprint(fn_args))
    model, plan = train(
        recipe, hp, data, fn_args.train_steps, fn_args.model_run_dir, base_model_of(fn_args)
    )
    pictures(recipe.exported(model), data, fn_args.model_run_dir, plan.epochs)
    recipe.export(recipe.exported(model), fn_args.serving_model_dir, data, hp)
    write_json(fn_args.model_run_dir, FIT_FILE, record(model, plan))
    return model


def _objective(ctx):
    """The validation metric a search optimises: the (main output's) gated metric."""
    import keras_tuner as kt

    prefix = f"val_{ctx.heads[0].name}_" if ctx.heads else "val_"
    if ctx.problem == "regression":
        return kt.Objective(f"{prefix}rmse", direction="min")
    # A sequence model's teacher-forced exact match equals its greedy decoding's.
    metric = "exact_match" if ctx.problem == "sequence" else "accuracy"
    return kt.Objective(f"{prefix}{metric}", direction="max")


def tuner(fn_args, recipe: Recipe, space: Callable[[Any], dict]):
    """A keras-tuner search over `space(kt_hp) -> {field: value}` applied to the recipe's.

    `TrainerConfig.tuner` picks 'random', 'bayesian' or 'hyperband'; `tune_trials` bounds
    the number of trials. Trials use `model.fit` (a recipe's own `fit` is the Trainer's).
    """
    import keras_tuner as kt
    from tfx.components.tuner.component import TunerFnResult

    from trainers.common import tuning

    hp, data = prepare(fn_args, recipe)
    ctx = with_steps(data.ctx, fn_args.train_steps, hp)
    schedule = fit_schedule(fn_args.train_steps, hp)
    search = tuning.tuner(
        data.config.tuner,
        tuning.HyperModel(recipe.build, ctx, hp, space),
        _objective(ctx),
        max_trials=int(data.config.tune_trials),
        max_epochs=schedule["epochs"],
        distribution_strategy=distribute.strategy(),
        directory=fn_args.working_dir,
        project_name="kfx",
        overwrite=True,
        seed=hp.seed,
    )
    if isinstance(search, kt.Hyperband):
        schedule.pop("epochs")  # Hyperband sets each trial's epochs
    fit_kwargs = {"x": data.train, "validation_data": data.val, "verbose": 0, **schedule}
    return TunerFnResult(tuner=search, fit_kwargs=fit_kwargs)
