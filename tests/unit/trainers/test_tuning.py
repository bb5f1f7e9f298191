import dataclasses

import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf

from trainers.common import hparams, mlp, schedules, tuning
from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context

FEATURES = InputFeatures(numeric=("a_xf",), categorical={"c_xf": 3})
CTX = Context(FEATURES, "classification", n_classes=3, train_steps=8)
OBJECTIVE = kt.Objective("val_accuracy", direction="max")


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.integers(0, 3, n)
    x = {"a_xf": (c + rng.normal(0, 0.3, n)).astype(np.float32), "c_xf": c.astype(np.int64)}
    return x, c


def _space(kt_hp):
    return {
        "units": kt_hp.Choice("units", [4, 8]),
        "lr_schedule": kt_hp.Choice("lr_schedule", ["plateau", "one_cycle"]),
        "precision": kt_hp.Choice("precision", ["float32", "mixed_bfloat16"]),
    }


def _hypermodel():
    return tuning.HyperModel(mlp.build, CTX, mlp.HParams(layers=1, steps_per_epoch=4), _space)


@pytest.mark.parametrize("algorithm", tuning.ALGORITHMS)
def test_two_trial_search_per_algorithm(algorithm, tmp_path):
    search = tuning.tuner(
        algorithm,
        _hypermodel(),
        OBJECTIVE,
        max_trials=2,
        max_epochs=2,
        directory=str(tmp_path),
        project_name="t",
        overwrite=True,
        seed=1,
    )
    x, y = _data()
    fit = {"batch_size": 8, "steps_per_epoch": 4, "validation_data": _data(seed=1), "verbose": 0}
    if algorithm != "hyperband":  # Hyperband sets each trial's epochs itself
        fit["epochs"] = 2
    search.search(x, y, **fit)

    trials = search.oracle.trials.values()
    assert len(trials) == 2 and {t.status for t in trials} == {"COMPLETED"}
    best = search.get_best_hyperparameters()[0]
    params = search.hypermodel.params(best)
    assert params == hparams.override(search.hypermodel.default, _space(best))
    assert params.units == best.get("units") and params.lr_schedule == best.get("lr_schedule")
    model = search.get_best_models(1)[0]
    dense = [layer for layer in model.get_layer("blocks").layers if "dense" in layer.name]
    assert dense[0].units == params.units
    assert model.predict(x, verbose=0).dtype == np.float32


def test_build_applies_the_trial_values_and_restores_the_policy():
    values = kt.HyperParameters()
    values.Fixed("units", 8)
    values.Fixed("lr_schedule", "one_cycle")
    values.Fixed("precision", "mixed_bfloat16")
    model = _hypermodel().build(values)
    hidden = model.get_layer("blocks").layers[0]
    assert hidden.units == 8 and hidden.compute_dtype == "bfloat16"
    assert isinstance(model.optimizer._learning_rate, schedules.OneCycle)
    assert model.optimizer._learning_rate.total_steps == CTX.train_steps
    assert tf.keras.mixed_precision.global_policy().name == "float32"


def test_fit_adds_the_plateau_callback_of_the_trial():
    values = kt.HyperParameters()
    values.Fixed("lr_schedule", "plateau")
    hypermodel = _hypermodel()
    model = hypermodel.build(values)
    x, y = _data()
    history = hypermodel.fit(
        values, model, x, y, batch_size=16, epochs=1, validation_data=_data(seed=1), verbose=0
    )
    assert "lr" in history.history  # written by ReduceLROnPlateau at each epoch end


def test_default_mlp_space_searches_the_schedule():
    values = kt.HyperParameters()
    chosen = mlp.search_space(values)
    assert set(chosen) == {"units", "layers", "learning_rate", "lr_schedule"}
    assert dataclasses.replace(mlp.HParams(), **chosen).lr_schedule == "constant"


def test_unknown_algorithm():
    with pytest.raises(ValueError, match="unknown tuner 'grid'; use one of random, bayesian"):
        tuning.tuner("grid", _hypermodel(), OBJECTIVE, 2, 2, directory="unused")
