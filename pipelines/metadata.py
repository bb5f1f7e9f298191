"""Read-only MLMD queries: runs, per-component states, blessing, metric and pushed model."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from components.lineage import NODE_CONTEXT, RUN_CONTEXT, pushes
from pipelines import ids, kinds
from pipelines.home import Home

STATES = {  # MLMD Execution.State values
    0: "unknown",
    1: "new",
    2: "running",
    3: "complete",
    4: "failed",
    5: "cached",
    6: "canceled",
}


@dataclasses.dataclass
class Step:
    """One component execution of a run."""

    node: str
    state: str
    seconds: float
    execution_id: int


@dataclasses.dataclass
class Score:
    """One metric the gate judged for one model output, on the test split."""

    key: str
    """'METRIC' for a single-output model, 'OUTPUT/METRIC' for a multi-output one."""
    value: float | None
    threshold: float | None
    """The gate; None when the metric is only reported (e.g. an auxiliary output's)."""
    higher_is_better: bool
    naive: float | None = None
    """The naive predictor's value in the same run (majority class, mean, random policy)."""
    margin: float = 0.0
    """How far the model had to beat `naive`."""
    baseline: float | None = None
    """The latest blessed model's value on the same data (None: no baseline yet)."""


@dataclasses.dataclass
class RunSummary:
    """What `kfx run` prints at the end and `kfx runs` lists."""

    task: str
    run_id: str
    started: float
    """Start, seconds since the epoch."""
    duration_s: float
    steps: list[Step]
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    blessed: bool | None = None
    pushed_model: str | None = None
    pushed_version: str | None = None
    span: int | None = None
    """Data span ExampleGen read."""
    optimized: dict | None = None
    """ModelOptimizer's record (`--optimize`): metric, and per variant its size and metric."""
    scores: list[Score] = dataclasses.field(default_factory=list)
    """Every evaluated output metric, main first (the main one is also `metric`/`value`)."""
    gate: dict | None = None
    """The gate's decision (`gate.Decision.to_json()`): value, threshold, naive, margin,
    baseline, passed, reason."""

    @property
    def state(self) -> str:
        """'failed' if any component failed, else 'complete'."""
        return "failed" if any(s.state == "failed" for s in self.steps) else "complete"


@contextlib.contextmanager
def store(home: Home):
    """An MLMD store on the home's sqlite database (None when nothing has run yet)."""
    if not home.metadata_path.exists():
        yield None
        return
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(home.metadata_path)
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    yield metadata_store.MetadataStore(config)


def _node_map(mlmd, task: str) -> dict[int, str]:
    """{execution id: node id} for every execution of the task's pipeline."""
    nodes = {}
    for ctx in mlmd.get_contexts_by_type(NODE_CONTEXT):
        pipeline, _, node = ctx.name.partition(".")
        if pipeline == task:
            for execution in mlmd.get_executions_by_context(ctx.id):
                nodes[execution.id] = node
    return nodes


def _run_executions(mlmd, run_id: str, nodes: dict[int, str]) -> list:
    """[(node id, execution)] of one run, restricted to the executions in `nodes`."""
    ctx = mlmd.get_context_by_type_and_name(RUN_CONTEXT, run_id)
    if ctx is None:
        return []
    return [(nodes[e.id], e) for e in mlmd.get_executions_by_context(ctx.id) if e.id in nodes]


def _outputs(mlmd, execution_id: int) -> list:
    """Every output artifact of one execution, whatever its key."""
    return [a for found in _outputs_by_key(mlmd, execution_id).values() for a in found]


def _custom(artifact, key):
    if key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    return getattr(value, value.WhichOneof("value"))


def _summary(mlmd, task: str, run_id: str, executions: list, spec=None) -> RunSummary:
    executions = sorted(executions, key=lambda pair: pair[1].create_time_since_epoch)
    steps = [
        Step(
            node,
            STATES.get(e.last_known_state, "unknown"),
            (e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0,
            e.id,
        )
        for node, e in executions
    ]
    start = min(e.create_time_since_epoch for _, e in executions) / 1000.0
    end = max(e.last_update_time_since_epoch for _, e in executions) / 1000.0
    summary = RunSummary(task, run_id, start, end - start, steps)
    if spec is not None:
        summary.metric, summary.threshold = spec.metric, spec.threshold
    by_node = {node: e for node, e in executions}
    for gen in ids.EXAMPLE_GENS:
        for artifact in _outputs(mlmd, by_node[gen].id) if gen in by_node else []:
            # TFX 1.16 records the span as a custom property of the Examples artifact.
            span = _custom(artifact, "span")
            summary.span = int(span) if span is not None else summary.span
    node = kinds.of(spec).decision_node(by_node) if spec is not None else None
    for artifact in _outputs(mlmd, by_node[node].id) if node in by_node else []:
        if _custom(artifact, "blessed") is not None:  # the gate's blessing
            summary.blessed = bool(_custom(artifact, "blessed"))
            _read_gate(summary, artifact.uri)
    if ids.MODEL_OPTIMIZER in by_node:
        for artifact in _outputs(mlmd, by_node[ids.MODEL_OPTIMIZER].id):
            summary.optimized = _optimizer_record(artifact)
    if ids.PUSHER in by_node:
        for artifact in _outputs(mlmd, by_node[ids.PUSHER].id):
            if _custom(artifact, "pushed"):
                summary.pushed_model = _custom(artifact, "pushed_destination")
                summary.pushed_version = str(_custom(artifact, "pushed_version"))
    return summary


def _read_gate(summary: RunSummary, blessing_uri: str) -> None:
    """The gate's decision and scores from the folder of its blessing."""
    from components import gate

    decision = gate.read(blessing_uri) if blessing_uri else None
    if decision is None:
        return
    summary.gate = decision.to_json()
    summary.scores = [
        Score(c.key, c.value, c.threshold, c.higher_is_better, c.naive, c.margin, c.baseline)
        for c in decision.checks
    ]
    summary.value = summary.scores[0].value


def _optimizer_record(artifact) -> dict | None:
    """{'metric', 'float_weights_bytes', VARIANT: {key: value}} from the artifact's properties."""
    variants = _custom(artifact, "variants")
    if not _custom(artifact, "optimized") or not variants:
        return None
    record = {"metric": _custom(artifact, "metric")}
    record["float_weights_bytes"] = _custom(artifact, "float_weights_bytes")
    for variant in variants.split(","):
        prefix = f"{variant}_"
        record[variant] = {
            key[len(prefix) :]: _custom(artifact, key)
            for key in sorted(artifact.custom_properties)
            if key.startswith(prefix)
        }
    return record


def run_summary(home: Home, task: str, run_id: str, spec=None) -> RunSummary | None:
    """The summary of one run, or None if MLMD has no execution of it."""
    with store(home) as mlmd:
        if mlmd is None:
            return None
        executions = _run_executions(mlmd, run_id, _node_map(mlmd, task))
        return _summary(mlmd, task, run_id, executions, spec) if executions else None


def runs(home: Home, task: str, spec=None) -> list[RunSummary]:
    """Every run of a task, oldest first."""
    with store(home) as mlmd:
        if mlmd is None:
            return []
        nodes = _node_map(mlmd, task)
        found = []
        for ctx in mlmd.get_contexts_by_type(RUN_CONTEXT):
            executions = _run_executions(mlmd, ctx.name, nodes)
            if executions:
                found.append(_summary(mlmd, task, ctx.name, executions, spec))
    return sorted(found, key=lambda r: r.started)


def node_outputs(home: Home, task: str, run_id: str, node: str) -> list:
    """Output artifacts of `node` in `run_id` (e.g. ExampleValidator's anomalies)."""
    with store(home) as mlmd:
        if mlmd is None:
            return []
        for name, execution in _run_executions(mlmd, run_id, _node_map(mlmd, task)):
            if name == node:
                return _outputs(mlmd, execution.id)
    return []


def _outputs_by_key(mlmd, execution_id: int) -> dict[str, list]:
    """{output key: artifacts} of one execution (a cached one: the artifacts it reused)."""
    from ml_metadata.proto import metadata_store_pb2

    events = mlmd.get_events_by_execution_ids([execution_id])
    keys = {
        e.artifact_id: e.path.steps[0].key
        for e in events
        if e.type == metadata_store_pb2.Event.OUTPUT and e.path.steps
    }
    found: dict[str, list] = {}
    for artifact in mlmd.get_artifacts_by_id(list(keys)) if keys else []:
        found.setdefault(keys[artifact.id], []).append(artifact)
    return found


def run_artifacts(home: Home, task: str, run_id: str) -> dict[str, dict[str, list]]:
    """{node: {output key: [MLMD artifacts]}} of one run ({} if MLMD has no such run)."""
    with store(home) as mlmd:
        if mlmd is None:
            return {}
        executions = _run_executions(mlmd, run_id, _node_map(mlmd, task))
        return {node: _outputs_by_key(mlmd, e.id) for node, e in executions}


def model_runs(home: Home, spec) -> list[tuple[RunSummary, str]]:
    """(run, ModelRun directory) of every run whose trainer ran, newest first.

    The training node is the kind's (Trainer or RLTrainer); a cached trainer reuses an
    earlier run's ModelRun, so each directory appears once, with the run that wrote it.
    """
    training = kinds.of(spec).training_nodes
    found = []
    with store(home) as mlmd:
        if mlmd is None:
            return []
        nodes = _node_map(mlmd, spec.name)
        for ctx in mlmd.get_contexts_by_type(RUN_CONTEXT):
            executions = _run_executions(mlmd, ctx.name, nodes)
            for node, execution in executions:
                if node not in training or STATES.get(execution.last_known_state) != "complete":
                    continue
                for artifact in _outputs_by_key(mlmd, execution.id).get("model_run", []):
                    summary = _summary(mlmd, spec.name, ctx.name, executions, spec)
                    found.append((summary, artifact.uri))
    return sorted(found, key=lambda pair: pair[0].started, reverse=True)


def step_state(home: Home, task: str, run_id: str, node: str) -> str:
    """State of `node` in `run_id` ('complete', 'cached', 'failed', ...; 'unknown' if absent)."""
    with store(home) as mlmd:
        if mlmd is None:
            return "unknown"
        nodes = {i: n for i, n in _node_map(mlmd, task).items() if n == node}
        states = [e.last_known_state for _, e in _run_executions(mlmd, run_id, nodes)]
    return STATES.get(states[-1], "unknown") if states else "unknown"


def latest_pushed_model(home: Home, task: str) -> Path | None:
    """Directory of the newest model Pusher pushed for `task`, if it still exists."""
    with store(home) as mlmd:
        if mlmd is None:
            return None
        for push in pushes(mlmd, task):
            path = Path(push.destination or "")
            if push.destination and (path / "saved_model.pb").exists():
                return path
    return None
