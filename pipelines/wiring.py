"""Pipeline pieces every kind shares: model resolvers, the Pusher and the Pipeline object."""

from __future__ import annotations

from pipelines import ids
from pipelines.options import RunOptions
from trainers.spec import TaskSpec


def _model_channels() -> dict:
    from tfx.types import Channel
    from tfx.types.standard_artifacts import Model, ModelBlessing

    return {"model": Channel(type=Model), "model_blessing": Channel(type=ModelBlessing)}


def warm_start_resolver(opts: RunOptions):
    """The latest blessed model, as the Trainer's `base_model`."""
    from tfx.dsl.components.common.resolver import Resolver
    from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
        LatestBlessedModelStrategy,
    )

    from components.baseline_resolver import LatestGatedModelStrategy

    # KubeflowV2 compiles only TFX's own strategies into resolver queries.
    strategy = LatestGatedModelStrategy if opts.target == "local" else LatestBlessedModelStrategy
    return Resolver(strategy_class=strategy, **_model_channels()).with_id(ids.WARM_START_RESOLVER)


def warm_start_inputs(opts: RunOptions, components: list) -> dict:
    """With `--warm-start`, adds the resolver to `components`; the trainer's extra inputs."""
    if not opts.warm_start:
        return {}
    latest = warm_start_resolver(opts)
    components.append(latest)
    return {"base_model": latest.outputs["model"]}


def baseline_resolver(opts: RunOptions, trainer):
    """The model the evaluator compares the candidate with, resolved after `trainer` runs."""
    from tfx.dsl.components.common.resolver import Resolver
    from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
        LatestBlessedModelStrategy,
    )

    from components.baseline_resolver import BaselineModelStrategy

    # KubeflowV2 compiles only TFX's own strategies into resolver queries; there a repeated
    # run re-evaluates its cached model against itself instead of hitting the cache.
    strategy = BaselineModelStrategy if opts.target == "local" else LatestBlessedModelStrategy
    baseline = Resolver(strategy_class=strategy, **_model_channels()).with_id(ids.BASELINE_RESOLVER)
    baseline.add_upstream_node(trainer)  # resolve after the candidate exists
    return baseline


def source_model(spec: TaskSpec, opts: RunOptions):
    """The newest pushed model of `spec.source_task`: (node to add, its Model channel).

    Locally a Resolver queries MLMD (components/source_model.py), keeping the lineage. On
    Kubeflow, which compiles only TFX's own strategies, an Importer brings in the model at
    `opts.source_model` (`kfx compile --source-model URI`).

    Raises:
        ValueError: compiling for Kubeflow without `opts.source_model`.
    """
    from tfx.types.standard_artifacts import Model

    if opts.target == "local":
        from tfx.dsl.components.common.resolver import Resolver
        from tfx.types import Channel

        from components.source_model import PushedModelStrategy

        node = Resolver(
            strategy_class=PushedModelStrategy,
            config={"pipeline_name": pipeline_name_of(spec.source_task, opts)},
            model=Channel(type=Model),
        ).with_id(ids.SOURCE_RESOLVER)
        return node, node.outputs["model"]
    if not opts.source_model:
        raise ValueError(
            f"task {spec.name!r} builds on {spec.source_task!r}'s model: pass its pushed model "
            "directory with --source-model URI"
        )
    from tfx.dsl.components.common.importer import Importer

    node = Importer(source_uri=opts.source_model, artifact_type=Model).with_id(ids.SOURCE_IMPORTER)
    return node, node.outputs["result"]


def pusher(spec: TaskSpec, home, model, blessing):
    """Pushes blessed models to versioned folders under the home's serving directory."""
    from tfx.components import Pusher
    from tfx.proto import pusher_pb2

    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(
            base_directory=str(home.serving_dir(spec.name))
        )
    )
    return Pusher(model=model, model_blessing=blessing, push_destination=destination).with_id(
        ids.PUSHER
    )


def report(spec: TaskSpec, pusher, **inputs):
    """The run's HTML report, after `pusher` (it reads what was pushed, and never blocks it).

    `inputs`: the Report's optional channels (statistics, anomalies, evaluation, model_run,
    blessing, trajectories); the pipeline's kind passes those it has.
    """
    from components.report import Report

    return Report(task=spec.name, pushed_model=pusher.outputs["pushed_model"], **inputs).with_id(
        ids.REPORT
    )


def pipeline_name(spec: TaskSpec, opts: RunOptions) -> str:
    """The task name, or for Kubeflow a name KFP accepts ([a-z0-9-]: no underscores)."""
    return pipeline_name_of(spec.name, opts)


def pipeline_name_of(task: str, opts: RunOptions) -> str:
    """`pipeline_name` of the task called `task`."""
    return task if opts.target == "local" else task.lower().replace("_", "-")


def pipeline(spec: TaskSpec, home, opts: RunOptions, components: list):
    """The TFX Pipeline object: one per task, local MLMD unless compiled for Kubeflow."""
    from tfx.orchestration import metadata
    from tfx.orchestration import pipeline as tfx_pipeline

    return tfx_pipeline.Pipeline(
        pipeline_name=pipeline_name(spec, opts),
        pipeline_root=str(home.pipeline_root(spec.name)),
        components=components,
        enable_cache=opts.enable_cache,
        # None when compiling for Kubeflow: the cluster's MLMD is used there.
        metadata_connection_config=(
            metadata.sqlite_metadata_connection_config(str(home.metadata_path))
            if home.metadata_path is not None
            else None
        ),
        beam_pipeline_args=list(opts.beam_args),
    )
