"""What `--target kubeflow` emits is what open-source Kubeflow Pipelines v2 can execute.

The open-source backend turns a PipelineSpec into an Argo workflow in
kubeflow/pipelines `backend/src/v2/compiler/argocompiler/`:
- `dag.go` fails run creation on a `resolver` executor ("resolver executors not implemented")
  and on a `customJob` executor ("custom job executors is Google Cloud only");
- `container.go` builds each container from `image`, `command`, `args` and `resources`;
  nothing in `backend/src` reads a container's `lifecycle` hooks, so a `preCacheCheck` hook
  (where KubeflowV2DagRunner puts file-based ExampleGen's span driver) never runs;
- importers run in the driver (`importer.go`).
So every executor must be a container without hooks or an importer. Vertex AI runs resolvers
and hooks; `--target vertex` keeps them (checked here too, so the difference stays explicit).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import pytest
import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from components import entrypoint
from pipelines import ids, kubeflow, tasks
from pipelines.options import RunOptions

ROOT = "gs://kfx-test-bucket/kfx"
IMAGE = "registry.example.com/kfx:test"
PROJECT = Path(__file__).resolve().parents[3]
OSS_EXECUTORS = {"container", "importer"}  # what argocompiler/dag.go builds
CASES = [(task, extended) for task in tasks.builtin() for extended in (False, True)]


def _case_id(case) -> str:
    return f"{case[0]}-extended" if case[1] else case[0]


@functools.cache
def _compiled(task: str, extended: bool, target: str) -> pipeline_spec_pb2.PipelineSpec:
    spec = tasks.builtin()[task]
    remote = kubeflow.RemoteHome(ROOT)
    opts = RunOptions(
        input_dir=remote.data_dir(task),
        warm_start=extended and not (spec.kind == "supervised" and spec.source_task),
        tune=extended and spec.kind == "supervised",
        # Vertex imports a source model from a given URI; kubeflow looks it up.
        source_model=f"{ROOT}/serving/{spec.source_task}/1" if target == "vertex" else None,
    )
    documents = kubeflow.compile_pipeline(spec, opts, IMAGE, ROOT, target=target)
    text = yaml.safe_dump(documents[0])  # through YAML, as a cluster receives it
    return json_format.ParseDict(yaml.safe_load(text), pipeline_spec_pb2.PipelineSpec())


def _executors(spec: pipeline_spec_pb2.PipelineSpec) -> dict:
    config = pipeline_spec_pb2.PipelineDeploymentConfig()
    json_format.ParseDict(json_format.MessageToDict(spec.deployment_spec), config)
    return dict(config.executors)


def _executor_of(spec, task_id: str):
    component = spec.components[spec.root.dag.tasks[task_id].component_ref.name]
    return _executors(spec)[component.executor_label]


def unsupported(spec: pipeline_spec_pb2.PipelineSpec) -> list[str]:
    """What the open-source backend would reject or silently skip, one line each."""
    found = []
    for label, executor in _executors(spec).items():
        kind = executor.WhichOneof("spec")
        if kind not in OSS_EXECUTORS:
            found.append(f"{label}: a {kind} executor (argocompiler/dag.go rejects it)")
        elif kind == "container" and executor.container.HasField("lifecycle"):
            found.append(f"{label}: a container lifecycle hook (never run by the backend)")
    return found


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_kubeflow_target_has_only_containers_and_importers(case):
    assert unsupported(_compiled(*case, "kubeflow")) == []


def test_the_check_catches_what_vertex_needs():
    """The same walk on `--target vertex` finds the resolvers and the ExampleGen hook."""
    found = unsupported(_compiled("penguin", True, "vertex"))
    assert any("resolver executor" in line for line in found), found
    assert any("lifecycle hook" in line for line in found), found


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_baseline_and_warm_start_come_from_push_folder_lookups(case):
    task, extended = case
    spec = _compiled(task, extended, "kubeflow")
    dag = spec.root.dag.tasks
    evaluator = "Evaluator" if tasks.builtin()[task].kind == "supervised" else "PolicyEvaluator"
    baseline = dag[evaluator].inputs.artifacts["baseline_model"].task_output_artifact
    assert baseline.producer_task == ids.BASELINE_LOOKUP
    lookup = dag[ids.BASELINE_LOOKUP].inputs.parameters["serving_dir"]
    assert lookup.runtime_value.constant.string_value == f"{ROOT}/serving/{task}"
    spec_ = tasks.builtin()[task]
    warm = extended and not (spec_.kind == "supervised" and spec_.source_task)
    assert (ids.WARM_START_LOOKUP in dag) == warm


@pytest.mark.parametrize("task", [t for t, s in tasks.builtin().items() if s.source_task])
def test_a_source_model_comes_from_the_source_tasks_push_folder(task):
    spec = _compiled(task, False, "kubeflow")
    lookup = spec.root.dag.tasks[ids.SOURCE_LOOKUP]
    source = tasks.builtin()[task].source_task
    serving_dir = lookup.inputs.parameters["serving_dir"].runtime_value.constant.string_value
    assert serving_dir == f"{ROOT}/serving/{source}"
    assert lookup.inputs.parameters["required"].runtime_value.constant.number_value == 1


@pytest.mark.parametrize("task", [t for t, s in tasks.builtin().items() if s.kind == "supervised"])
def test_example_gen_resolves_the_span_in_its_executor_and_is_never_cached(task):
    spec = _compiled(task, False, "kubeflow")
    gen = (
        ids.IMPORT_EXAMPLE_GEN
        if tasks.builtin()[task].data_format == "tfrecord"
        else (ids.CSV_EXAMPLE_GEN)
    )
    args = list(_executor_of(spec, gen).container.args)
    executor_class = args[args.index("--executor_class_path") + 1]
    assert executor_class.startswith("components.span_example_gen."), executor_class
    # New data arrives outside the pipeline: a cache hit would train on the old span.
    assert spec.root.dag.tasks[gen].caching_options.enable_cache is False


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_lookup_is_never_cached(case):
    dag = _compiled(*case, "kubeflow").root.dag.tasks
    for node in ids.LOOKUPS:
        if node in dag:
            assert dag[node].caching_options.enable_cache is False, node


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_container_runs_the_kfx_entrypoint_on_an_importable_executor(case):
    for target in ("kubeflow", "vertex"):
        for label, executor in _executors(_compiled(*case, target)).items():
            if executor.WhichOneof("spec") != "container":
                continue
            assert list(executor.container.command) == entrypoint.COMMAND, label
            args = list(executor.container.args)
            module, _, name = args[args.index("--executor_class_path") + 1].rpartition(".")
            assert hasattr(importlib.import_module(module), name), (label, module, name)


@pytest.mark.parametrize("target", ["kubeflow", "vertex"])
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_no_path_of_this_machine_in_the_compiled_spec(case, target):
    """A cluster has neither this checkout nor this home: the schema is read beside the data."""
    spec = _compiled(*case, target)
    text = json_format.MessageToJson(spec)
    assert str(PROJECT) not in text and f"{Path.home()}/" not in text
    if "ImportSchemaGen" in spec.root.dag.tasks:
        parameters = spec.root.dag.tasks["ImportSchemaGen"].inputs.parameters
        schema = parameters["schema_file"].runtime_value.constant.string_value
        assert schema == f"{ROOT}/schemas/{case[0]}/schema.pbtxt"
