"""Report: the run's HTML page (components/reporting) as an artifact the Kubeflow UI shows.

The artifact type is named `system.HTML`: TFX's KubeflowV2 compiler puts a custom type's
name in the artifact schema's title, KFP records that title as the MLMD type, and the KFP
UI renders `system.HTML` artifacts (with a `display_name`) by reading the file at the
artifact's URI (kfp.dsl.HTML is the same type). So the page is the artifact's file itself: a
ValueArtifact, whose URI is a file locally too. Every pipeline kind ends with this node,
after the Pusher; it never fails the run: a page that cannot be built becomes an error page.
"""

from absl import logging
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import value_artifact
from tfx.types.standard_artifacts import (
    ExampleAnomalies,
    Examples,
    ExampleStatistics,
    ModelBlessing,
    ModelEvaluation,
    ModelRun,
    PushedModel,
)

DISPLAY_NAME = "kfx report"


class HTMLReport(value_artifact.ValueArtifact):
    """A self-contained HTML page stored at the artifact's URI (KFP's `system.HTML`)."""

    TYPE_NAME = "system.HTML"

    def encode(self, value: str) -> bytes:
        """The page's UTF-8 bytes."""
        return value.encode("utf-8")

    def decode(self, serialized_value: bytes) -> str:
        """The page's text."""
        return serialized_value.decode("utf-8")


def _split(artifact):
    return (artifact.uri, artifact.split_names) if artifact is not None else None


def _pushed(artifact) -> dict | None:
    """What the Pusher did, from its PushedModel's properties (None: no Pusher input)."""
    if artifact is None:
        return None
    return {
        "pushed": bool(artifact.get_int_custom_property("pushed")),
        "version": artifact.get_string_custom_property("pushed_version"),
        "destination": artifact.get_string_custom_property("pushed_destination"),
    }


# Every pipeline kind ends with this.
@component
def Report(  # noqa: N802 (TFX component names are classes)
    report: OutputArtifact[HTMLReport],
    task: Parameter[str],
    statistics: InputArtifact[ExampleStatistics] = None,
    anomalies: InputArtifact[ExampleAnomalies] = None,
    evaluation: InputArtifact[ModelEvaluation] = None,
    model_run: InputArtifact[ModelRun] = None,
    blessing: InputArtifact[ModelBlessing] = None,
    pushed_model: InputArtifact[PushedModel] = None,
    trajectories: InputArtifact[Examples] = None,
) -> None:
    """Writes the page of this run; what the pipeline lacks is left out of it."""
    import components.reporting as reporting

    try:
        html = reporting.render(
            reporting.Inputs(
                task=task,
                statistics=_split(statistics),
                anomalies=_split(anomalies),
                evaluation=evaluation.uri if evaluation is not None else None,
                model_run=model_run.uri if model_run is not None else None,
                blessing=blessing.uri if blessing is not None else None,
                pushed=_pushed(pushed_model),
                trajectories=trajectories.uri if trajectories is not None else None,
            )
        )
        report.set_int_custom_property("complete", 1)
    except Exception as err:  # noqa: BLE001 (a report never changes what was blessed or pushed)
        logging.exception("kfx: the report failed")
        html = reporting.error_page(task, err)
        report.set_string_custom_property("error", f"{type(err).__name__}: {err}")
        report.set_int_custom_property("complete", 0)
    import os

    import tensorflow as tf

    # The page is a file at the URI; an orchestrator may not have made its folder.
    tf.io.gfile.makedirs(os.path.dirname(report.uri))
    report.write(html)
    report.set_string_custom_property("display_name", DISPLAY_NAME)
