"""MLMD names and the one query for a pipeline's pushes (no TFX import: cheap to load).

The resolver strategies (components/source_model.py) and the read-only queries of
`pipelines/metadata.py` both find "the model a task pushed last" here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

# MLMD context types TFX's orchestrators write (tfx.dsl.compiler.constants).
PIPELINE_CONTEXT, RUN_CONTEXT, NODE_CONTEXT = "pipeline", "pipeline_run", "node"
PUSHED_MODEL, MODEL = "PushedModel", "Model"  # artifact type names


@dataclasses.dataclass(frozen=True)
class Push:
    """One successful push: the PushedModel artifact and the Model it shipped (MLMD protos)."""

    pushed: object
    model: object | None

    @property
    def destination(self) -> str | None:
        """Where the Pusher copied the model (a versioned folder)."""
        value = self.pushed.custom_properties.get("pushed_destination")
        return value.string_value if value is not None else None


def pushes(store, pipeline_name: str) -> Iterator[Push]:
    """`pipeline_name`'s successful pushes, newest first."""
    context = store.get_context_by_type_and_name(PIPELINE_CONTEXT, pipeline_name)
    if context is None:
        return
    from ml_metadata import errors

    try:
        pushed_type = store.get_artifact_type(PUSHED_MODEL)
        model_type = store.get_artifact_type(MODEL)
    except errors.NotFoundError:  # a first run that has not reached its Pusher yet
        return
    pushed = [
        a
        for a in store.get_artifacts_by_context(context.id)
        if a.type_id == pushed_type.id and a.custom_properties["pushed"].int_value == 1
    ]
    for artifact in sorted(pushed, key=lambda a: a.id, reverse=True):
        executions = {e.execution_id for e in store.get_events_by_artifact_ids([artifact.id])}
        events = store.get_events_by_execution_ids(sorted(executions))
        inputs = [e.artifact_id for e in events if e.type == e.INPUT]
        models = [a for a in store.get_artifacts_by_id(inputs) if a.type_id == model_type.id]
        yield Push(artifact, models[0] if models else None)


def latest_push(store, pipeline_name: str) -> Push | None:
    """`pipeline_name`'s newest successful push, or None."""
    return next(pushes(store, pipeline_name), None)
