"""Everything `kfx` prints for people: progress lines, tables, summaries, errors."""

from __future__ import annotations

import datetime
import json
import logging
import sys
import warnings

from pipelines import metadata
from pipelines.home import Home


def quiet() -> None:
    """Hides Python warnings and library logs (the run's full log still goes to home/logs)."""
    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    for name in ("absl", "apache_beam", "tensorflow"):
        logging.getLogger(name).propagate = False


def error(text: str) -> None:
    """A message on stderr, prefixed like argparse errors."""
    for line in text.splitlines() or [""]:
        print(f"kfx: {line}" if line else "", file=sys.stderr)


def info(text: str) -> None:
    """A status line on stderr (stdout stays machine-readable)."""
    print(text, file=sys.stderr, flush=True)


class Progress:
    """One line per finished component: name, state from MLMD, seconds."""

    def __init__(self, home: Home):
        self.home, self.task, self.run_id = home, "", ""

    def begin(self, task: str, run_id: str) -> None:
        """Names the run whose components report (before the first of them starts)."""
        self.task, self.run_id = task, run_id

    def __call__(self, node: str, event: str, seconds: float) -> None:
        """Called by the runner's log hook for each component start and finish."""
        if event != "finished":
            return
        state = metadata.step_state(self.home, self.task, self.run_id, node)
        info(f"  {node:<28} {state:<9} {seconds:7.1f} s")


def table(rows: list[dict], columns: list[str]) -> None:
    """A plain aligned table on stdout."""
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def _verdict(summary) -> str:
    if summary.value is None:
        return "no evaluation"
    sign = ">=" if summary.threshold is None or summary.metric != "rmse" else "<="
    blessed = "BLESSED" if summary.blessed else "NOT BLESSED"
    return f"{summary.metric} {summary.value:.4f} (threshold {sign} {summary.threshold}) {blessed}"


def _score(score) -> str:
    value = "-" if score.value is None else f"{score.value:.4f}"
    if score.threshold is None:
        return f"{score.key} {value} (reported, not gated)"
    sign = ">=" if score.higher_is_better else "<="
    return f"{score.key} {value} (threshold {sign} {score.threshold})"


def summary(run, wall: float) -> None:
    """The final lines of `kfx run` on stdout."""
    cached = sum(1 for s in run.steps if s.state == "cached")
    print(
        f"{run.task}: run {run.run_id} finished in {wall:.1f} s "
        f"({len(run.steps)} components, {cached} from cache)"
    )
    print(f"  {_verdict(run)}")
    if len(run.scores) > 1:  # a multi-output model: every output's metric
        for score in run.scores:
            print(f"    {_score(score)}")
    if run.pushed_model:
        print(f"  pushed model: {run.pushed_model}")
    elif run.blessed is False:
        print("  nothing pushed: the serving model is unchanged")


def runs(found: list) -> None:
    """`kfx runs` as a table, oldest first."""
    rows = []
    for run in found:
        states = ",".join(f"{s.node}:{s.state}" for s in run.steps)
        rows.append(
            {
                "task": run.task,
                "run_id": run.run_id,
                "start": datetime.datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M:%S"),
                "seconds": f"{run.duration_s:.1f}",
                "span": "-" if run.span is None else run.span,
                "state": run.state,
                "metric": "-" if run.value is None else f"{run.metric}={run.value:.4f}",
                "blessed": {None: "-", True: "yes", False: "no"}[run.blessed],
                "pushed": run.pushed_version or "-",
                "components": states,
            }
        )
    if not rows:
        print("no runs yet: try `kfx run penguin`")
        return
    table(
        rows,
        [
            "task",
            "run_id",
            "start",
            "seconds",
            "span",
            "state",
            "metric",
            "blessed",
            "pushed",
            "components",
        ],
    )


def tasks(specs: list, as_json: bool = False) -> None:
    """`kfx tasks`: name, kind, metric, threshold and dataset of each task."""
    rows = [
        {
            "name": s.name,
            "kind": s.kind,
            "dataset": s.dataset,
            "metric": s.metric,
            "threshold": s.threshold,
        }
        for s in specs
    ]
    if as_json:
        print(json.dumps(rows))
    else:
        table(rows, ["name", "kind", "metric", "threshold", "dataset"])


def compiled(task: str, result) -> None:
    """Where `kfx compile` wrote the pipeline, and where its data must be uploaded."""
    info(
        f"{task}: compiled for Kubeflow → {result.path} (image {result.image}, root "
        f"{result.pipeline_root})"
        + (f"; upload the data to {result.data_dir}/span-N/" if result.data_dir else "")
    )


def run_result(result, logs_dir) -> None:
    """The end of `kfx run`: the summary, or why the run stopped and what to do."""
    from pipelines import api

    if result.outcome == api.OK:
        summary(result.summary, result.wall_s)
        if result.summary.optimized:
            optimized(result.summary.optimized)
        if result.frozen_schema:
            info(
                f"  schema frozen: {result.frozen_schema} (later data for "
                f"{result.spec.name!r} is validated against it; edit it to allow new values)"
            )
        return
    if result.outcome == api.INVALID_DATA:
        from components import anomaly_gate

        hint = str(result.spec.schema_path or "the inferred schema")
        error(anomaly_gate.message(result.anomalies, hint, result.data_source))
        error(
            f"nothing was trained or pushed; run {result.run_id} is in "
            f"`kfx runs {result.spec.name}`"
        )
        for folder in result.rejected:
            error(f"rejected data kept in {folder}")
        return
    error(f"{result.failed_node or 'pipeline'} failed: {result.error}")
    error(f"full log: {logs_dir} (or re-run with -v)")


def optimized(record: dict) -> None:
    """The ModelOptimizer's variants: metric and size against the float32 weights."""
    metric, floats = record["metric"], record["float_weights_bytes"]
    print(f"  optimized ({metric} on the eval split; float32 weights {floats} B):")
    for variant, values in record.items():
        if not isinstance(values, dict):
            continue
        size = values.get("bytes") if "file" in values else None
        where = f"{values['file']} {size} B, {floats / size:.2f}x smaller" if size else ""
        if "sparsity" in values:
            where = f"{values.get('layers', 0)} layers pruned: {values['sparsity']:.0%} zeros"
        print(f"    {variant:<14} {values.get(metric, float('nan')):.4f}  {where}".rstrip())
