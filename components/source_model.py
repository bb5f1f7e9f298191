"""Another pipeline's newest pushed model, as an input of this one (resolved through MLMD).

Tasks that build on another task's model — trajectories rolled out by a pushed policy, a
backbone to fine-tune, a teacher to distil — resolve it with `PushedModelStrategy`: the Model
artifact that the newest successful Pusher execution of that pipeline shipped. Going through
MLMD (not a folder path) keeps the lineage: the consumer's execution records the producer's
Model artifact as its input.
"""

from __future__ import annotations

from tfx.dsl.components.common import resolver
from tfx.types import artifact_utils

PIPELINE_CONTEXT = "pipeline"
PUSHED_MODEL = "PushedModel"
MODEL = "Model"


def latest_pushed_model(store, pipeline_name: str):
    """The Model artifact (MLMD proto) behind `pipeline_name`'s newest push, or None."""
    context = store.get_context_by_type_and_name(PIPELINE_CONTEXT, pipeline_name)
    if context is None:
        return None
    pushed_type = store.get_artifact_type(PUSHED_MODEL)
    pushed = [
        a
        for a in store.get_artifacts_by_context(context.id)
        if a.type_id == pushed_type.id and a.custom_properties["pushed"].int_value == 1
    ]
    if not pushed:
        return None
    newest = max(pushed, key=lambda a: a.id)
    (push,) = {e.execution_id for e in store.get_events_by_artifact_ids([newest.id])}
    inputs = [e.artifact_id for e in store.get_events_by_execution_ids([push]) if e.type == e.INPUT]
    model_type = store.get_artifact_type(MODEL)
    models = [a for a in store.get_artifacts_by_id(inputs) if a.type_id == model_type.id]
    return models[0] if models else None


class PushedModelStrategy(resolver.ResolverStrategy):
    """Resolves its one channel to the Model another pipeline pushed last (or nothing)."""

    def __init__(self, pipeline_name: str):
        """`pipeline_name`: the pipeline (task) whose pushed model is wanted."""
        self._pipeline_name = pipeline_name

    def resolve_artifacts(self, store, input_dict):
        """Ignores the channel's own artifacts and queries MLMD for the other pipeline's."""
        (key,) = input_dict
        found = latest_pushed_model(store, self._pipeline_name)
        if found is None:
            return {key: []}
        artifact_type = store.get_artifact_types_by_id([found.type_id])[0]
        return {key: [artifact_utils.deserialize_artifact(artifact_type, found)]}
