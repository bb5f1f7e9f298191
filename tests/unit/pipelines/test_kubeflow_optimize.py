"""`--optimize` compiled for Kubeflow: a ModelOptimizer between the Evaluator and the Pusher."""

from __future__ import annotations

import json

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from pipelines import kubeflow, placement, tasks
from pipelines.options import RunOptions
from tests.e2e import helpers
from tests.e2e.helpers import kfx

ROOT = "gs://kfx-test-bucket/root"
IMAGE = "registry.example.com/kfx/components:test-1"


def _spec(documents) -> pipeline_spec_pb2.PipelineSpec:
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(documents[0], spec, ignore_unknown_fields=False)
    return spec


def _compile(optimize: bool, hparams=None):
    spec = tasks.builtin()["penguin"]
    opts = RunOptions(
        input_dir=kubeflow.RemoteHome(ROOT).data_dir(spec.name),
        optimize=optimize,
        hparams=hparams or {},
    )
    return kubeflow.compile_pipeline(spec, opts, IMAGE, ROOT)


def _parameter(task, name: str) -> str:
    return task.inputs.parameters[name].runtime_value.constant.string_value


def _producer(task, name: str) -> tuple[str, str]:
    artifact = task.inputs.artifacts[name].task_output_artifact
    return artifact.producer_task, artifact.output_artifact_key


@pytest.fixture(scope="module")
def optimized():
    return _compile(True, {"units": "8", "optimize.target_sparsity": "0.7"})


def test_optimizer_sits_between_the_evaluator_and_the_pusher(optimized):
    dag = _spec(optimized).root.dag.tasks
    optimizer = dag["ModelOptimizer"]
    assert _producer(optimizer, "model") == ("Trainer", "model")
    assert _producer(optimizer, "examples") == ("Transform", "transformed_examples")
    assert _producer(optimizer, "transform_graph") == ("Transform", "transform_graph")
    assert _producer(optimizer, "blessing") == ("ModelGate", "blessing")
    # The Pusher ships the optimizer's model once the ServingCheck has loaded and asked it.
    assert _producer(dag["Pusher"], "model") == ("ModelOptimizer", "optimized_model")
    assert _producer(dag["ServingCheck"], "model") == ("ModelOptimizer", "optimized_model")
    assert _producer(dag["ServingCheck"], "gate_blessing") == ("ModelGate", "blessing")
    assert _producer(dag["Pusher"], "model_blessing") == ("ServingCheck", "blessing")
    assert _parameter(optimizer, "score_split") == "test"  # what the gate judged on


def test_optimizer_gets_the_task_from_its_parameters_and_its_own_overrides(optimized):
    dag = _spec(optimized).root.dag.tasks
    optimizer = dag["ModelOptimizer"]
    assert _parameter(optimizer, "label_key") == "species_xf"
    assert _parameter(optimizer, "problem") == "classification"
    assert _parameter(optimizer, "import_modules") == "trainers.penguin.model"
    assert json.loads(_parameter(optimizer, "params")) == {"target_sparsity": "0.7"}
    trainer_config = json.loads(_parameter(dag["Trainer"], "custom_config"))
    assert trainer_config["hparams"] == {"units": "8"}  # optimize.* stays out of the Trainer


def test_optimizer_runs_in_the_image_on_the_cpu_pool_with_data_limits(optimized):
    spec = _spec(optimized)
    label = spec.components[spec.root.dag.tasks["ModelOptimizer"].component_ref.name]
    executor = optimized[0]["deploymentSpec"]["executors"][label.executor_label]
    assert executor["container"]["image"] == IMAGE
    resources = executor["container"]["resources"]
    assert (resources["cpuLimit"], resources["memoryLimit"]) == (
        placement.DATA.cpu,
        placement.DATA.memory_gb,
    )
    config = optimized[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert config[label.executor_label]["nodeSelector"]["labels"] == dict(
        placement.DATA.node_selector
    )


def test_without_optimize_the_pusher_ships_the_trainer_model():
    dag = _spec(_compile(False)).root.dag.tasks
    assert "ModelOptimizer" not in dag
    assert _producer(dag["Pusher"], "model") == ("Trainer", "model")


@pytest.fixture
def cli_state(monkeypatch):
    """`kfx` changes global logging and warning filters (console.quiet); put them back."""
    monkeypatch.delenv("KFX_IMAGE", raising=False)
    monkeypatch.delenv("KFX_PIPELINE_ROOT", raising=False)
    with helpers.cli_state():
        yield


def test_cli_compile_optimize_writes_a_package_with_the_optimizer(tmp_path, cli_state):
    out = tmp_path / "penguin.yaml"
    result = kfx(
        tmp_path / "home",
        "compile",
        "penguin",
        "--optimize",
        "--image",
        IMAGE,
        "--pipeline-root",
        ROOT,
        "-o",
        str(out),
    )
    assert result.code == 0, result.err
    documents = list(yaml.safe_load_all(out.read_text()))
    assert "ModelOptimizer" in _spec(documents).root.dag.tasks
