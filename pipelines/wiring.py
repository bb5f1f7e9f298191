"""Pipeline pieces every kind shares: model lookups (per target), Pusher, Report, Pipeline."""

from __future__ import annotations

from pipelines import ids, targets
from pipelines.options import RunOptions
from trainers.spec import TaskSpec


def warm_start_inputs(spec: TaskSpec, home, opts: RunOptions, components: list) -> dict:
    """With `--warm-start`, adds the latest blessed model's node; the trainer's extra inputs."""
    if not opts.warm_start:
        return {}
    latest = targets.of(opts).warm_start(spec, home, opts)
    components.append(latest)
    return {"base_model": latest.outputs["model"]}


def baseline(spec: TaskSpec, home, opts: RunOptions, trainer):
    """The node whose `model` output the candidate is compared with, after `trainer` runs."""
    return targets.of(opts).baseline(spec, home, opts, trainer)


def source_model(spec: TaskSpec, home, opts: RunOptions):
    """The newest pushed model of `spec.source_task`: (node to add, its Model channel).

    Raises:
        ValueError: the target needs `--source-model URI` and none was given.
    """
    return targets.of(opts).source_model(spec, home, opts)


def pusher(spec: TaskSpec, home, model, blessing):
    """Pushes blessed models to versioned folders under the home's serving directory.

    Each version folder appears in one rename (components/atomic_pusher.py).
    """
    from tfx.proto import pusher_pb2

    from components.atomic_pusher import AtomicPusher

    destination = pusher_pb2.PushDestination(
        filesystem=pusher_pb2.PushDestination.Filesystem(
            base_directory=str(home.serving_dir(spec.name))
        )
    )
    return AtomicPusher(model=model, model_blessing=blessing, push_destination=destination).with_id(
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
