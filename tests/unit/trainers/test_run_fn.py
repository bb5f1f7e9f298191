"""Every Keras task's real `run_fn`, a few steps on tiny real inputs, under `--set` values.

Each run gets `lr_schedule=plateau` and `precision=mixed_bfloat16` through its TrainerConfig's
hparams and must show that (a) the learning rate dropped inside one fit (the `epoch_lr`
scalars the LR logger writes), (b) the model was built under mixed_bfloat16 (model_run's
fit.json) and (c) hparams.json holds exactly the effective hyper-parameters. The eval files
hold the training examples with every float input NaN: their loss is NaN, never an
improvement, so plateau (patience 1) halves the rate after every epoch of every fit.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from pathlib import Path

import pytest
import tensorflow as tf

from trainers import manifest
from trainers.common import hparams
from trainers.contract import Head, TrainerConfig

TRAIN_STEPS = 8  # 4 epochs of 2 steps
SET = {
    "lr_schedule": "plateau",
    "precision": "mixed_bfloat16",
    "lr_plateau_patience": "1",
    "patience": "50",  # early stopping stays out of the way
    "steps_per_epoch": "2",
    "batch_size": "8",
}
SMALL = {  # task-specific sizes that keep each run a few seconds
    "cnn_vgg": {"filters": "4,8", "dense": "8"},
    "cnn_resnet": {"filters": "4,8", "blocks_per_stage": "1"},
    "digits_mlp": {"units": "8"},
    "subclassed": {"units": "8"},
    "transfer": {"dense": "8"},
    "distill": {"units": "8"},
    "sine_rnn": {"units": "4"},
    "text_transformer": {"dim": "8", "attention": "scratch"},
    "speech_transformer": {"dim": "8", "blocks": "1", "heads": "2", "attention": "scratch"},
    "seq2seq": {"dim": "8", "heads": "2", "blocks": "1", "attention": "scratch"},
    "vit": {"dim": "8", "blocks": "1", "heads": "2"},
    "forecast_transformer": {"dim": "8", "blocks": "1", "attention": "scratch"},
    "cartpole_dt": {"context": "5", "dim": "16", "layers": "1", "val_windows": "32"},
}


@dataclasses.dataclass(frozen=True)
class Case:
    """One task's trainer and what its pipeline hands it."""

    trainer: str
    """Trainer package."""
    data: str
    """The tiny data set it trains on (a `tiny_inputs` name, conftest.py)."""
    config: TrainerConfig
    """The TrainerConfig, without the hparams `SET` adds."""
    base: str | None = None
    """Task whose export is the base model (backbone, teacher)."""


DIGITS = TrainerConfig(label="label", problem="classification")
PENGUINS = TrainerConfig(label="species", problem="classification")  # as conftest's tabular
FORECAST = TrainerConfig(label="target", problem="regression")
TRANSFORMERS = {  # attention maps too
    "forecast_transformer",
    "text_transformer",
    "speech_transformer",
    "vit",
    "seq2seq",
}
CASES = {
    "penguin": Case("trainers.penguin", "penguin", PENGUINS),
    "tabular": Case("trainers.tabular", "tabular", PENGUINS),
    "digits_mlp": Case("trainers.digits_mlp", "digits", DIGITS),
    "subclassed": Case("trainers.subclassed", "digits", DIGITS),
    "cnn_vgg": Case("trainers.cnn_vgg", "digits", DIGITS),  # also cnn_digits04's package
    "cnn_resnet": Case("trainers.cnn_resnet", "digits", DIGITS),
    "transfer": Case("trainers.transfer", "digits", DIGITS, base="cnn_vgg"),
    "distill": Case("trainers.distill", "digits", DIGITS, base="cnn_vgg"),
    "wide_deep": Case(
        "trainers.wide_deep",
        "wide_deep",
        TrainerConfig(
            label="Miles_per_Gallon",
            problem="regression",
            outputs=(
                Head("mpg", "Miles_per_Gallon", "regression"),
                Head("aux", "Miles_per_Gallon", "regression"),
            ),
        ),
    ),
    "multi_io": Case(
        "trainers.multi_io",
        "multi_io",
        TrainerConfig(
            label="sentiment",
            problem="classification",
            outputs=(
                Head("sentiment", "sentiment", "classification"),
                Head("rating", "rating", "regression"),
            ),
        ),
    ),
    "sine_rnn": Case("trainers.sine_rnn", "sine", FORECAST),
    "vit": Case("trainers.vit", "digits", DIGITS),
    "text_transformer": Case(
        "trainers.text_transformer", "text", TrainerConfig(label="score", problem="classification")
    ),
    "speech_transformer": Case(
        "trainers.speech_transformer",
        "speech",
        TrainerConfig(label="digit", problem="classification"),
    ),
    "forecast_transformer": Case("trainers.forecast_transformer", "sine", FORECAST),
    "seq2seq": Case(
        "trainers.seq2seq", "numbers", TrainerConfig(label="digits", problem="sequence")
    ),
    "cartpole_dt": Case(
        "trainers.cartpole_dt",
        "episodes",
        TrainerConfig(problem="control", env_id="CartPole-v1"),
    ),
}


def _labels(config: TrainerConfig) -> set[str]:
    return {f"{name}_xf" for name in {config.label} | {o.label for o in config.outputs}}


def _hparams(task: str) -> dict:
    return {**SET, **SMALL.get(task, {})}


def _files(tiny_inputs, case: Case) -> dict:
    return tiny_inputs(case.data, _labels(case.config))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_inputs, make_fn_args):
    """`runs(task)`: the task's run_fn done once per module; returns its fn_args."""
    done = {}

    def run(task: str):
        if task not in done:
            case = CASES[task]
            base = run(case.base).serving_model_dir if case.base else None
            config = dataclasses.replace(case.config, hparams=_hparams(task))
            folder = tmp_path_factory.mktemp(task)
            fn_args = make_fn_args(_files(tiny_inputs, case), folder, config, base, TRAIN_STEPS)
            importlib.import_module(f"{case.trainer}.model").run_fn(fn_args)
            done[task] = fn_args
        return done[task]

    return run


def _scalars(folder: str, tag: str) -> list[float]:
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        folder, size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    if tag not in events.Tags()["tensors"]:
        return []
    return [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)]


def _rates_per_fit(model_run: str) -> dict[str, tuple[list[float], list[float]]]:
    """Every fit's (`epoch_lr` of its `train` folder, `epoch_loss` of its `validation`)."""
    found = {}
    for folder, _, files in os.walk(model_run):
        if os.path.basename(folder) != "train" or not any("tfevents" in f for f in files):
            continue
        rates = _scalars(folder, "epoch_lr")
        if rates:
            found[folder] = (
                rates,
                _scalars(os.path.join(folder, "..", "validation"), "epoch_loss"),
            )
    return found


def _plateau(first: float, val_losses: list[float], factor: float = 0.5) -> list[float]:
    """The rate of each epoch under ReduceLROnPlateau (patience 1, min_delta 1e-4), then the
    rate after the last one: it falls after every epoch whose val_loss did not improve (a NaN
    never improves)."""
    rates, best, rate = [first], float("inf"), first
    for loss in val_losses:
        if loss < best - 1e-4:
            best = loss
        else:
            rate *= factor
        rates.append(rate)
    return rates


def _expected(task: str) -> dict:
    """The effective hyper-parameters: the trainer's defaults with this run's values."""
    module = importlib.import_module(f"{CASES[task].trainer}.model")
    default = module.HParams()
    if CASES[task].config.env_id:
        default = dataclasses.replace(default, env_id=CASES[task].config.env_id)
    return json.loads(json.dumps(dataclasses.asdict(hparams.override(default, _hparams(task)))))


@pytest.mark.parametrize("task", list(CASES))
def test_run_fn_applies_plateau_and_bfloat16_and_records_the_hparams(runs, task):
    fn_args = runs(task)
    model_run = Path(fn_args.model_run_dir)

    fits = _rates_per_fit(str(model_run))
    assert fits, f"no epoch_lr logged under {model_run}"
    for rates, val_losses in fits.values():  # halved after each epoch val_loss did not improve
        assert len(rates) >= 2 and len(val_losses) == len(rates)
        assert rates == pytest.approx(_plateau(rates[0], val_losses)[:-1])

    record = json.loads((model_run / "fit.json").read_text())
    assert record["dtype_policy"] == "mixed_bfloat16"
    assert "bfloat16" in record["compute_dtypes"] and "float32" in record["compute_dtypes"]
    finals = [_plateau(rates[0], losses)[-1] for rates, losses in fits.values()]
    assert any(record["final_learning_rate"] == pytest.approx(f) for f in finals)  # last fit's

    used = json.loads((model_run / "hparams.json").read_text())
    assert used == _expected(task)
    assert (used["lr_schedule"], used["precision"]) == ("plateau", "mixed_bfloat16")
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # restored after build
    assert manifest.exists(fn_args.serving_model_dir)


def test_transfer_logs_each_phase_and_fine_tunes_at_the_lower_rate(runs):
    fn_args = runs("transfer")
    rates = _rates_per_fit(fn_args.model_run_dir)
    by_phase = {Path(folder).parent.name: r for folder, (r, _) in rates.items()}
    assert set(by_phase) == {"frozen", "fine_tune"}
    lr = _expected("transfer")["learning_rate"]
    factor = _expected("transfer")["fine_tune_lr_factor"]
    assert by_phase["frozen"][0] == pytest.approx(lr)
    assert by_phase["fine_tune"][0] == pytest.approx(lr * factor)


def test_distill_exports_the_student_alone(runs):
    student, teacher = runs("distill").serving_model_dir, runs("cnn_vgg").serving_model_dir
    size = len(tf.saved_model.load(student).variables)
    assert size < len(tf.saved_model.load(teacher).variables)
    assert set(manifest.read(student).classes) == set(manifest.read(teacher).classes)


def test_the_decision_transformer_exports_an_episodic_policy(runs):
    saved = manifest.read(runs("cartpole_dt").serving_model_dir)
    assert saved.kind == manifest.EPISODIC_POLICY and saved.env_id == "CartPole-v1"
    assert saved.model["shape"]["context"] == 5


@pytest.mark.parametrize("algorithm", ["random", "hyperband"])
def test_tuner_fn_prepares_what_the_trainer_prepares(
    tiny_inputs, make_fn_args, tmp_path, algorithm
):
    from trainers.penguin import model as penguin

    case = CASES["penguin"]
    config = dataclasses.replace(
        case.config, hparams=_hparams("penguin"), tuner=algorithm, tune_trials=2
    )
    fn_args = make_fn_args(_files(tiny_inputs, case), tmp_path, config, None, TRAIN_STEPS)
    result = penguin.tuner_fn(fn_args)
    hypermodel = result.tuner.hypermodel
    assert json.loads(json.dumps(dataclasses.asdict(hypermodel.default))) == _expected("penguin")
    assert hypermodel.ctx.train_steps == TRAIN_STEPS and hypermodel.ctx.n_classes == 3
    assert result.tuner.oracle.objective.name == "val_accuracy"
    assert result.tuner.oracle.max_trials == 2
    assert result.fit_kwargs["steps_per_epoch"] == 2
    assert ("epochs" in result.fit_kwargs) == (algorithm != "hyperband")


@pytest.mark.parametrize("task", list(CASES))
def test_every_task_logs_a_graph_and_every_classifier_its_confusion_matrix(runs, task):
    from components.reporting import sources

    config = CASES[task].config
    logs = sources.events(runs(task).model_run_dir)
    assert logs.graph, f"{task}: no model graph in TensorBoard"
    images = {tag for run, tag, _ in logs.images if run == "validation"}
    if config.outputs:  # one matrix per classification output
        wanted = {
            f"confusion_matrix/{o.name}" for o in config.outputs if o.problem == "classification"
        }
    elif config.problem == "classification":
        wanted = {"confusion_matrix"}
    else:  # a single regression: its predictions against the truth
        wanted = {"forecast_vs_truth"} if config.problem == "regression" else set()
    if task in TRANSFORMERS:
        wanted |= {"attention_map"}
    if config.problem == "sequence":  # an encoder-decoder: what each step reads of the source
        wanted |= {"cross_attention_map"}
    assert images == wanted
