"""Trainer options end to end: mixed precision + a LR schedule, and each Tuner algorithm.

RandomSearch (the default --tuner) is covered by test_supervised_pipeline's --tune test; here
Hyperband and BayesianOptimization run, and the Trainer's effective hyper-parameters
(hparams.json in its ModelRun) must equal the Tuner's best_hyperparameters artifact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipelines import metadata, predict, tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, split_rows, states

pytestmark = pytest.mark.e2e

STEPS = ("--train-steps", "60", "--set", "steps_per_epoch=10")  # tiny: 6 epochs of 10 steps


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kfx_home")


@pytest.fixture(scope="module")
def bfloat16(home):
    """The first run of the home: mixed_bfloat16 with 1cycle; later runs reuse its data."""
    options = ("--set", "precision=mixed_bfloat16", "--set", "lr_schedule=one_cycle")
    result = kfx(home, "run", "penguin", *STEPS, *options, "--json")
    assert result.code == 0, result.err
    return result


def _output_dir(home, run_id: str, node: str, folder: str) -> Path:
    """The URI of `node`'s output artifact that lives under `folder` (e.g. model_run)."""
    artifacts = metadata.node_outputs(Home.resolve(home), "penguin", run_id, node)
    (uri,) = [a.uri for a in artifacts if f"/{folder}/" in a.uri]
    return Path(uri)


def test_mixed_bfloat16_model_serves_float32_and_predict_agrees(home, bfloat16, tmp_path):
    assert bfloat16.json["blessed"] is True
    run_id = bfloat16.json["run_id"]
    model_run = _output_dir(home, run_id, "Trainer", "model_run")
    used = json.loads((model_run / "hparams.json").read_text())
    assert (used["precision"], used["lr_schedule"]) == ("mixed_bfloat16", "one_cycle")

    import tensorflow as tf

    serving = tf.saved_model.load(bfloat16.json["pushed_model"]).signatures["serving_default"]
    outputs = serving.structured_outputs
    assert outputs["probabilities"].dtype == outputs["score"].dtype == tf.float32

    rows = split_rows(home, "penguin", "test")
    csv = tmp_path / "eval.csv"
    rows.to_csv(csv, index=False)
    spec = tasks.get("penguin", Home.resolve(home))
    predicted = predict.predict(Home.resolve(home), spec, csv)
    accuracy = float(np.mean(predicted["prediction"] == predicted["species"]))
    assert accuracy == pytest.approx(bfloat16.json["value"], abs=1e-6)


def test_learning_rate_is_in_tensorboard_and_follows_one_cycle(home, bfloat16):
    from tensorboard.backend.event_processing import event_accumulator

    model_run = _output_dir(home, bfloat16.json["run_id"], "Trainer", "model_run")
    events = event_accumulator.EventAccumulator(
        str(model_run / "train"), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    import tensorflow as tf

    rates = [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("epoch_lr")]
    assert len(rates) == 6
    peak = int(np.argmax(rates))
    assert 0 < peak < 5 and rates[-1] < rates[0] < rates[peak]


@pytest.mark.parametrize("algorithm", ["hyperband", "bayesian"])
def test_tuner_best_hyperparameters_are_what_the_trainer_used(home, bfloat16, algorithm):
    result = kfx(
        home, "run", "penguin", "--tune", "--tuner", algorithm, "--trials", "2", *STEPS, "--json"
    )
    assert result.code == 0, result.err
    run_id = result.json["run_id"]
    got = states(home, "penguin", run_id)
    assert got["Tuner"] == got["Trainer"] == "complete"
    assert got["Transform"] == "cached"  # only tuning and training differ from the first run

    best_dir = _output_dir(home, run_id, "Tuner", "best_hyperparameters")
    best = json.loads((best_dir / "best_hyperparameters.txt").read_text())["values"]
    used = json.loads(
        (_output_dir(home, run_id, "Trainer", "model_run") / "hparams.json").read_text()
    )
    searched = {"units", "layers", "learning_rate", "lr_schedule"}
    assert searched <= set(best)
    assert {k: used[k] for k in searched} == {k: best[k] for k in searched}
    # Everything else is the task's default with this run's --set.
    assert used["steps_per_epoch"] == 10 and used["precision"] == "float32"
    if algorithm == "hyperband":
        assert "tuner/epochs" in best  # Hyperband's own bookkeeping stays out of the Trainer
