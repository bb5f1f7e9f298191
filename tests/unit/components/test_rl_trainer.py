"""RLTrainer's own code path for a policy that is not a Q-network, locally and on ram://."""

import json
import os
import sys
import types

import numpy as np
import pytest
import tensorflow as tf
from tfx.types.standard_artifacts import Model, ModelRun
from tfx.utils import path_utils

from components import rl_trainer
from trainers import manifest
from trainers.contract import TrainerConfig
from trainers.rl import envs, export, monitor

TOY = "toy_softmax_trainer"  # the trainer module the component imports (see `toy_trainer`)


def _softmax_net(seed: int = 0) -> tf.keras.Model:
    inputs = tf.keras.Input(shape=(4,), name="observations")
    init = tf.keras.initializers.GlorotUniform(seed=seed)
    out = tf.keras.layers.Dense(2, activation="softmax", kernel_initializer=init)(inputs)
    return tf.keras.Model(inputs, out)


@pytest.fixture
def toy_trainer(monkeypatch):
    """A trainer module whose `train_policy` returns a softmax net; records its arguments."""
    calls = []

    def train_policy(config, log_dir, base_model):
        calls.append((config, log_dir, base_model))
        model = _softmax_net()
        if base_model:
            model.set_weights(export.load_weights(base_model))
        return monitor.TrainResult(
            model=model, env_id=config.env_id, steps_to_target=None, history=[(7, 9.0)],
            wall_s=0.5, env_steps=config.train_steps, best_return=9.0, best_step=7,
            outputs="probabilities",
        )  # fmt: skip

    module = types.ModuleType(TOY)
    module.train_policy = train_policy
    monkeypatch.setitem(sys.modules, TOY, module)
    return calls


CONFIG = TrainerConfig(problem="control", env_id="CartPole-v1", train_steps=7, hparams={"a": 1})


def _artifact(kind, uri):
    artifact = kind()
    artifact.uri = uri
    return artifact


def test_component_exports_a_softmax_policy(tmp_path, toy_trainer):
    model = _artifact(Model, str(tmp_path / "model"))
    model_run = _artifact(ModelRun, str(tmp_path / "model_run"))
    body = rl_trainer.RLTrainer.EXECUTOR_SPEC.executor_class._FUNCTION
    body(model=model, model_run=model_run, trainer_module=TOY, config=CONFIG.to_json())
    ((config, log_dir, base_model),) = toy_trainer
    assert config == CONFIG and log_dir == model_run.uri and base_model is None
    serving = path_utils.serving_model_dir(model.uri)
    outputs = tf.saved_model.load(serving).signatures["serving_default"].structured_outputs
    assert set(outputs) == {"action", "score", "probabilities"}
    found = manifest.read(serving)
    assert found.kind == manifest.POLICY and found.score == "probability"
    assert found.env_id == "CartPole-v1" and len(found.features) == 4 and found.actions == 2
    summary = json.loads((tmp_path / "model_run" / rl_trainer.SUMMARY_FILE).read_text())
    assert summary["outputs"] == "probabilities" and summary["warm_started_from"] is None
    assert summary["history"] == [[7, 9.0]] and "model" not in summary
    assert model.get_float_custom_property("env_steps") == 7.0
    assert model.get_float_custom_property("wall_s") == 0.5
    assert not model.has_custom_property("steps_to_target")  # None: not set
    assert envs.evaluate(export.load_policy(serving), "CartPole-v1", 2, 0).shape == (2,)


def test_train_and_export_on_ram_filesystem_with_a_warm_start(toy_trainer):
    base = _softmax_net(seed=5)
    base_uri = "ram://rl_trainer_test/base"
    export.save_policy(base, path_utils.serving_model_dir(base_uri), outputs="probabilities")
    model_uri, run_uri = "ram://rl_trainer_test/model", "ram://rl_trainer_test/model_run"
    summary = rl_trainer.train_and_export(TOY, CONFIG.to_json(), model_uri, run_uri, base_uri)
    (_, _, start), serving = toy_trainer[0], path_utils.serving_model_dir(model_uri)
    assert start == path_utils.serving_model_dir(base_uri) == summary["warm_started_from"]
    for saved, original in zip(export.load_weights(serving), base.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, original)  # the warm start reached the export
    assert manifest.read(serving).score == "probability"
    with tf.io.gfile.GFile(os.path.join(run_uri, rl_trainer.SUMMARY_FILE)) as handle:
        assert json.load(handle) == json.loads(json.dumps(summary))
    policy = export.load_policy(serving)
    obs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_array_equal(policy(obs), base(obs).numpy().argmax(axis=1))


def test_config_must_be_a_trainer_config(toy_trainer):
    with pytest.raises(ValueError, match="unknown keys"):
        rl_trainer.train_and_export(TOY, '{"total_timesteps": 5}', "ram://t/m", "ram://t/r")
    assert toy_trainer == []
