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


def kfp_task(node: str, event: str, seconds: float) -> None:
    """One line per finished kfp.local task (kfp.local keeps no MLMD to ask for states)."""
    if event != "running":
        info(f"  {node:<28} {'complete' if event == 'finished' else 'FAILED':<9} {seconds:7.1f} s")


def kfp_local_result(result, wall: float) -> None:
    """The end of `kfx run --runner kfp-local`: the gate's decision, the push, or the failure."""
    print(
        f"{result.spec.name}: kfp.local ran {result.package} in {wall:.1f} s "
        f"({len(result.tasks)} container tasks; artifacts in {result.run_dir})"
    )
    if result.failed:
        failed = next(t for t in result.tasks if t.name == result.failed)
        print(f"  {result.failed} failed; its log: {failed.log}")
        for line in result.error.splitlines():
            print(f"    {line}")
    if result.decision:
        verdict = "BLESSED" if result.blessed else "NOT BLESSED"
        print(f"  {verdict}: {result.decision['reason']}")
    if result.pushed:
        print(f"  pushed model: {result.pushed}")
    elif result.decision and not result.blessed:
        print("  nothing pushed: the serving model is unchanged")


def table(rows: list[dict], columns: list[str]) -> None:
    """A plain aligned table on stdout."""
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in columns}
    print("  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def _score(score) -> str:
    """One metric as the gate saw it: value, threshold, naive predictor and baseline."""
    value = "-" if score.value is None else f"{score.value:.4f}"
    if score.threshold is None:
        return f"{score.key} {value} (reported, not gated)"
    sign = ">=" if score.higher_is_better else "<="
    parts = [f"threshold {sign} {score.threshold:g}"]
    if score.naive is not None:
        better = "+" if score.higher_is_better else "-"
        parts.append(f"naive {score.naive:.4f} {better} {score.margin:g}")
    parts.append("no baseline" if score.baseline is None else f"baseline {score.baseline:.4f}")
    return f"{score.key} {value} ({'; '.join(parts)})"


def summary(run, wall: float) -> None:
    """The final lines of `kfx run` on stdout: what the gate decided, on the test split."""
    cached = sum(1 for s in run.steps if s.state == "cached")
    print(
        f"{run.task}: run {run.run_id} finished in {wall:.1f} s "
        f"({len(run.steps)} components, {cached} from cache)"
    )
    if not run.scores:
        print("  no evaluation")
    else:
        verdict = "BLESSED" if run.blessed else "NOT BLESSED"
        print(f"  {_score(run.scores[0])} {verdict}")
        for score in run.scores[1:]:  # a multi-output model: every output's metric
            print(f"    {_score(score)}")
        if run.gate and not run.gate["passed"]:
            print(f"  why: {run.gate['reason']}")
    if run.pushed_model:
        print(f"  pushed model: {run.pushed_model}")
    elif run.blessed is False:
        print("  nothing pushed: the serving model is unchanged")


def _components(run) -> str:
    """'8 ran, 3 cached' (and which failed)."""
    counts: dict[str, int] = {}
    for step in run.steps:
        counts[step.state] = counts.get(step.state, 0) + 1
    ran = counts.pop("complete", 0)
    parts = [f"{ran} ran"] + [f"{n} {state}" for state, n in sorted(counts.items())]
    failed = [s.node for s in run.steps if s.state == "failed"]
    return ", ".join(parts) + (f" ({', '.join(failed)})" if failed else "")


def _run_row(run) -> dict[str, str]:
    score = run.scores[0] if run.scores else None
    delta = naive = "-"
    if score is not None and score.value is not None and score.baseline is not None:
        delta = f"{score.value - score.baseline:+.4f}"
    if score is not None and score.naive is not None:
        naive = f"{score.naive:.4f}"
    metric = "-" if run.value is None else f"{run.metric} {run.value:.4f}"
    return {
        "task": run.task,
        "run id": run.run_id,
        "start": datetime.datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H:%M:%S"),
        "duration": f"{run.duration_s:.1f} s",
        "span": "-" if run.span is None else str(run.span),
        "components": _components(run),
        "metric": metric,
        "Δ baseline": delta,
        "naive": naive,
        "blessed": {None: "-", True: "yes", False: "no"}[run.blessed],
        "pushed": run.pushed_version or "-",
    }


def runs(found: list, many: bool = True) -> None:
    """`kfx runs` as a table (newest first as given); `many`: with a task column."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    if not found:
        print("no runs yet: try `kfx run penguin`")
        return
    rows = [_run_row(run) for run in found]
    columns = [c for c in rows[0] if many or c != "task"]
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, highlight=False)
    for column in columns:
        numeric = column in ("duration", "span", "Δ baseline", "naive")
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        style = "red" if "failed" in row["components"] else None
        table.add_row(*(row[c] for c in columns), style=style)
    # A pipe or a file gets whole lines (no wrapping at 80 columns).
    width = None if sys.stdout.isatty() else 240
    Console(file=sys.stdout, width=width, highlight=False).print(table)


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
    """Where `kfx compile` wrote the pipeline, and what must be uploaded where."""
    uploads = []
    if result.data_dir:
        uploads.append(f"the data to {result.data_dir}/span-N/")
    if result.schema_file:
        uploads.append(f"the schema to {result.schema_file}")
    info(
        f"{task}: compiled for {result.target} → {result.path} (image {result.image}, root "
        f"{result.pipeline_root})" + (f"; upload {' and '.join(uploads)}" if uploads else "")
    )


def run_result(result, log_path) -> None:
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
    error(f"its log: {log_path} (or re-run with -v to see it live)")


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
