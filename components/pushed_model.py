"""LatestPushedModel: the newest model pushed to a folder, as a Model artifact (no MLMD query).

Locally kfx finds baselines, warm starts and source models with Resolvers over MLMD. The
open-source Kubeflow Pipelines backend runs no resolver executor, so on that target the push
destination itself is the record: the Pusher writes only models a gate blessed, one numbered
folder each, so its newest folder is the latest gate-blessed model. This component copies it
into its output Model (where TFX's readers look) or, if there is none, marks the output absent
(`components.artifacts.present` then reads it as no model). Every file goes through
`tf.io.gfile`, so the folder may be local or remote.
"""

import os

from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import Model

from components import artifacts

PUSHED_FROM = "pushed_from"  # custom property: the pushed folder the model was copied from


def newest_version(serving_dir: str) -> str | None:
    """The newest numbered version folder under `serving_dir`, or None."""
    import tensorflow as tf

    if not tf.io.gfile.isdir(serving_dir):
        return None
    versions = [
        name.rstrip("/")
        for name in tf.io.gfile.listdir(serving_dir)
        if name.rstrip("/").isdigit()
        and tf.io.gfile.exists(os.path.join(serving_dir, name.rstrip("/"), "saved_model.pb"))
    ]
    if not versions:
        return None
    return os.path.join(serving_dir, max(versions, key=int))


# Pipelines compiled for open-source Kubeflow call this instead of a Resolver.
@component
def LatestPushedModel(  # noqa: N802 (TFX component names are classes)
    model: OutputArtifact[Model],
    serving_dir: Parameter[str],
    required: Parameter[int] = 0,
) -> None:
    """Copies the newest version under `serving_dir` into `model`, or marks it absent.

    Raises:
        FileNotFoundError: `required` and nothing was pushed there yet.
    """
    from tfx.utils import path_utils

    newest = newest_version(serving_dir)
    if newest is None:
        if required:
            raise FileNotFoundError(
                f"{serving_dir}: no pushed model; run the task that pushes there first"
            )
        artifacts.mark_absent(model.uri, f"nothing pushed under {serving_dir} yet")
        return
    artifacts.copy_tree(newest, path_utils.serving_model_dir(model.uri))
    model.set_string_custom_property(PUSHED_FROM, newest)
