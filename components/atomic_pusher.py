"""TFX's Pusher, made atomic on a local filesystem: a version folder appears whole or not at all.

TFX copies the model into `BASE/VERSION` file by file (saved_model.pb last, which TF Serving
waits for), so a process killed mid-copy can leave a half-written `saved_model.pb` that a
folder-scanning server then tries to load. Here the copy goes to `BASE/STAGING/VERSION` on the
same filesystem and is renamed into place in one step; leftovers of a killed push are removed
at the next push. Readers (`kfx serve`, TF Serving, the push-folder lookups) only consider
numbered folders, so the staging folder is invisible to them. On object stores (gs://, s3://)
a rename is a copy, so TFX's own saved_model.pb-last order is kept there.
"""

from __future__ import annotations

import os

from tfx.components import Pusher
from tfx.components.pusher import executor as tfx_pusher
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

STAGING = ".incoming"  # under the push folder: not a number, so no reader takes it for a version


def is_local(path: str) -> bool:
    """Whether `path` is on a filesystem with an atomic rename (no URI scheme)."""
    return "://" not in path


class Executor(tfx_pusher.Executor):
    """Pushes into a staging folder, then renames the version folder into place."""

    def Do(self, input_dict, output_dict, exec_properties) -> None:  # noqa: N802 (TFX's name)
        """TFX's push to `BASE/STAGING`, then one rename to `BASE/VERSION`."""
        destination = pusher_pb2.PushDestination()
        key = standard_component_specs.PUSH_DESTINATION_KEY
        proto_utils.json_to_proto(exec_properties[key], destination)
        base = destination.filesystem.base_directory
        if destination.WhichOneof("destination") != "filesystem" or not is_local(base):
            super().Do(input_dict, output_dict, exec_properties)
            return
        staging = os.path.join(base, STAGING)
        if fileio.exists(staging):
            fileio.rmtree(staging)  # what a killed push left: never renamed, never seen
        destination.filesystem.base_directory = staging
        staged = {**exec_properties, key: proto_utils.proto_to_json(destination)}
        super().Do(input_dict, output_dict, staged)
        pushed = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not pushed.get_int_custom_property("pushed"):
            return
        version = pushed.get_string_custom_property("pushed_version")
        final = os.path.join(base, version)
        if fileio.exists(final):  # the same second's version already pushed whole
            fileio.rmtree(os.path.join(staging, version))
        else:
            os.replace(os.path.join(staging, version), final)
        if not fileio.listdir(staging):
            fileio.rmtree(staging)
        pushed.set_string_custom_property("pushed_destination", final)


class AtomicPusher(Pusher):
    """TFX's Pusher component (same inputs, outputs and properties) running `Executor`."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
