"""Compile a task's pipeline for Kubeflow Pipelines: PipelineSpec + Kubernetes PlatformSpec.

KubeflowV2DagRunner writes the PipelineSpec (with per-component CPU/memory limits and
accelerators from `with_platform_config`), but TFX has no route to node selectors or
tolerations. kfx adds them as a second YAML document, the `platforms.kubernetes` PlatformSpec
that kfp-kubernetes defines (`KubernetesExecutorConfig` per executor); `kfp.Client` uploads
such a two-document file as it is.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pipelines import kinds, placement, targets
from pipelines.options import RunOptions
from trainers.spec import TaskSpec

DEFAULT_PIPELINE_ROOT = "gs://kfx-pipelines"  # infra/k8s/tensorboard.yaml reads the same root


@dataclasses.dataclass(frozen=True)
class RemoteHome:
    """The home's layout under a remote URI; the cluster's MLMD replaces the sqlite file."""

    root: str
    metadata_path = None

    def pipeline_root(self, task: str) -> str:
        """Artifacts of the task's pipeline."""
        return f"{self.root.rstrip('/')}/pipelines/{task}"

    def serving_dir(self, task: str) -> str:
        """Where Pusher writes versioned models."""
        return f"{self.root.rstrip('/')}/serving/{task}"

    def data_dir(self, task: str) -> str:
        """Where ExampleGen reads the task's data (upload it there)."""
        return f"{self.root.rstrip('/')}/data/{task}"

    def schema_file(self, task: str) -> str:
        """Where ImportSchemaGen reads the task's curated schema (upload it there)."""
        return f"{self.root.rstrip('/')}/schemas/{task}/schema.pbtxt"


def _resource_spec(place: placement.Placement):
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec_class = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec
    resources = spec_class(cpu_limit=place.cpu, memory_limit=place.memory_gb)
    if place.accelerator:
        resources.accelerator.CopyFrom(
            spec_class.AcceleratorConfig(type=place.accelerator, count=place.accelerator_count)
        )
    return resources


def _resources_json(place: placement.Placement) -> dict[str, Any]:
    """The container resources of `place`, as the PipelineSpec's JSON holds them."""
    from google.protobuf import json_format

    return json_format.MessageToDict(_resource_spec(place))


def _kubernetes_config(place: placement.Placement) -> dict[str, Any]:
    """One executor's KubernetesExecutorConfig, as the JSON the PlatformSpec holds."""
    config: dict[str, Any] = {"nodeSelector": {"labels": dict(place.node_selector)}}
    if place.tolerations:
        config["tolerations"] = [
            {"key": t.key, "operator": t.operator, "effect": t.effect} for t in place.tolerations
        ]
    return config


def _executor_of(pipeline_spec: dict, task_id: str) -> str | None:
    """The executor label that runs DAG task `task_id` (None for resolvers/importers)."""
    task = pipeline_spec["root"]["dag"]["tasks"].get(task_id)
    if task is None:
        return None
    component = pipeline_spec["components"][task["componentRef"]["name"]]
    label = component.get("executorLabel")
    executors = pipeline_spec["deploymentSpec"]["executors"]
    return label if label in executors and "container" in executors[label] else None


def compile_pipeline(
    spec: TaskSpec,
    opts: RunOptions,
    image: str,
    pipeline_root: str = DEFAULT_PIPELINE_ROOT,
    training: placement.Placement | None = None,
    target: str = "kubeflow",
) -> list[dict[str, Any]]:
    """The two YAML documents for `kfp.Client.upload_pipeline`: PipelineSpec, PlatformSpec.

    `target`: 'kubeflow' (open-source KFP v2) or 'vertex' (Vertex AI), see pipelines/targets.py.
    """
    from tfx.dsl.components.base import base_component
    from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner as v2

    from components import entrypoint

    training = training or placement.training_placement(spec.placement)
    opts = dataclasses.replace(opts, target=target)
    kind = kinds.of(spec)
    pipeline = kind.create_pipeline(spec, RemoteHome(pipeline_root), opts)
    placements = {}
    for component in pipeline.components:
        if isinstance(component, base_component.BaseComponent):
            placements[component.id] = placement.for_component(
                component.id, training, kind.training_nodes
            )
            component.with_platform_config(_resource_spec(placements[component.id]))
    runner = v2.KubeflowV2DagRunner(
        config=v2.KubeflowV2DagRunnerConfig(
            default_image=image, default_commands=entrypoint.COMMAND, use_pipeline_spec_2_1=True
        ),
        output_dir="unused",  # write_out=False: nothing is written
    )
    job = runner.run(pipeline, write_out=False)
    pipeline_spec = job["pipelineSpec"]
    pipeline_spec["defaultPipelineRoot"] = job.get("runtimeConfig", {}).get(
        "gcsOutputDirectory", RemoteHome(pipeline_root).pipeline_root(spec.name)
    )
    for task_id in targets.TARGETS[target].uncached:
        task = pipeline_spec["root"]["dag"]["tasks"].get(task_id)
        if task is not None:  # its output depends on files outside the pipeline
            task["cachingOptions"] = {"enableCache": False}
    executors = {}
    containers = pipeline_spec["deploymentSpec"]["executors"]
    for component_id, place in placements.items():
        label = _executor_of(pipeline_spec, component_id)
        if label is not None:
            executors[label] = _kubernetes_config(place)
            # KubeflowV2's builder drops platform_config for file-based ExampleGens.
            containers[label]["container"].setdefault("resources", _resources_json(place))
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": executors}}}}
    return [pipeline_spec, platform]


def write(documents: list[dict[str, Any]], output: Path) -> Path:
    """Writes the documents as one multi-document YAML file."""
    import yaml

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return output
