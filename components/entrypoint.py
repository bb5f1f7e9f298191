"""The container entrypoint of every kfx component on Kubeflow: TFX's, knowing kfx's KFP types.

TFX's Kubeflow V2 entrypoint (`kubeflow_v2_run_executor`) imports each artifact's class from
its schema title, mapping only TFX's own `tfx.*` titles to classes. The Report's artifact is
titled `system.HTML` so that the Kubeflow UI renders it, which the entrypoint would try to
import as a module path and fail. This module adds that title to TFX's map, then runs TFX's
entrypoint unchanged.
"""

from absl import app
from tfx.orchestration.kubeflow.v2 import compiler_utils
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor as tfx_entrypoint

from components.report import HTMLReport

COMMAND = ["python", "-m", "components.entrypoint"]  # what compiled container specs run


def register_types() -> None:
    """Maps kfx's KFP-titled artifact types to their classes in TFX's title table."""
    compiler_utils.TITLE_TO_CLASS_PATH.setdefault(
        HTMLReport.TYPE_NAME, f"{HTMLReport.__module__}.{HTMLReport.__qualname__}"
    )


if __name__ == "__main__":
    register_types()
    # TFX's own argument parsing: the same flags the compiled container args carry.
    app.run(tfx_entrypoint.main, flags_parser=tfx_entrypoint._parse_flags)  # noqa: SLF001
