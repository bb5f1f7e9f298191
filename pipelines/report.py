"""`kfx report`: the HTML page of one run, from the artifacts MLMD recorded for it.

The page is the one the Report component writes at the end of each pipeline
(components/reporting); here the artifacts are found through MLMD, so any recorded run has
one, also a run the data validation stopped (its statistics and anomalies) or one from
before the Report node existed.
"""

from __future__ import annotations

from pathlib import Path

from pipelines import ids, kinds, metadata
from pipelines.errors import TaskError
from pipelines.home import Home


def _first(outputs: dict, node: str, key: str):
    artifacts = outputs.get(node, {}).get(key, [])
    return artifacts[0] if artifacts else None


def _split_names(artifact) -> str:
    value = artifact.properties.get("split_names")
    return value.string_value if value is not None else "[]"


def pick_run(home: Home, spec, run_id: str | None) -> metadata.RunSummary:
    """The run `run_id` of the task (None: its newest).

    Raises:
        TaskError: the task has no runs, or none called `run_id` (the message lists some).
    """
    runs = metadata.runs(home, spec.name, spec)
    if not runs:
        raise TaskError(f"{spec.name} has no runs in {home.root}: run `kfx run {spec.name}` first")
    if run_id is None:
        return runs[-1]
    for run in runs:
        if run.run_id == run_id:
            return run
    recent = ", ".join(r.run_id for r in reversed(runs[-3:]))
    raise TaskError(
        f"{spec.name} has no run {run_id!r}; recent runs: {recent} (all: `kfx runs {spec.name}`)"
    )


def inputs(home: Home, spec, run: metadata.RunSummary):
    """The `reporting.Inputs` of `run`: its artifacts' URIs from MLMD."""
    import components.reporting as reporting

    outputs = metadata.run_artifacts(home, spec.name, run.run_id)
    kind = kinds.of(spec)
    stats = _first(outputs, ids.STATISTICS_GEN, "statistics")
    anomalies = _first(outputs, ids.EXAMPLE_VALIDATOR, "anomalies")
    evaluation_node = ids.EVALUATOR if ids.EVALUATOR in outputs else kind.evaluation_node
    evaluation = _first(outputs, evaluation_node, "evaluation")
    model_run = next(
        (_first(outputs, node, "model_run") for node in kind.training_nodes if node in outputs),
        None,
    )
    blessing = _first(outputs, kind.decision_node(outputs), "blessing")
    trajectories = _first(outputs, ids.TRAJECTORY_GEN, "examples")
    pushed = None
    if _first(outputs, ids.PUSHER, "pushed_model") is not None:
        pushed = {
            "pushed": run.pushed_model is not None,
            "version": run.pushed_version or "",
            "destination": run.pushed_model or "",
        }
    return reporting.Inputs(
        task=spec.name,
        run_id=run.run_id,
        started=run.started,
        statistics=(stats.uri, _split_names(stats)) if stats else None,
        anomalies=(anomalies.uri, _split_names(anomalies)) if anomalies else None,
        evaluation=evaluation.uri if evaluation else None,
        model_run=model_run.uri if model_run else None,
        blessing=blessing.uri if blessing else None,
        pushed=pushed,
        trajectories=trajectories.uri if trajectories else None,
    )


def write(home: Home, spec, run_id: str | None, output: str | Path | None) -> Path:
    """Renders the page of `run_id` (None: the newest run) to `output` (default report.html).

    Raises:
        TaskError: no such run, or `output` cannot be written.
    """
    import components.reporting as reporting

    run = pick_run(home, spec, run_id)
    page = reporting.render(inputs(home, spec, run))
    path = Path(output or "report.html")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page, encoding="utf-8")
    except OSError as err:
        why = err.strerror or err
        raise TaskError(f"cannot write the report to {path}: {why}; pick another -o FILE") from None
    return path
