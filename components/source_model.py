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

from components import lineage


class PushedModelStrategy(resolver.ResolverStrategy):
    """Resolves its one channel to the Model another pipeline pushed last (or nothing)."""

    def __init__(self, pipeline_name: str):
        """`pipeline_name`: the pipeline (task) whose pushed model is wanted."""
        self._pipeline_name = pipeline_name

    def resolve_artifacts(self, store, input_dict):
        """Ignores the channel's own artifacts and queries MLMD for the other pipeline's."""
        (key,) = input_dict
        push = lineage.latest_push(store, self._pipeline_name)
        found = push.model if push is not None else None
        if found is None:
            return {key: []}
        artifact_type = store.get_artifact_types_by_id([found.type_id])[0]
        return {key: [artifact_utils.deserialize_artifact(artifact_type, found)]}
