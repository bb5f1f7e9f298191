"""kfx from Python: run or compile a task and get a result object back.

The CLI, the bench scripts and the tests call these; the CLI only parses and prints.

    from pipelines import api
    result = api.run_task(Home.resolve("kfx_home"), "penguin", api.Settings(train_steps=200))
    result.blessed, result.pushed_model, result.value
"""

from __future__ import annotations

import dataclasses
import importlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipelines import ids, kinds, local, metadata, options, own_csv, spans, tasks
from pipelines.errors import TaskError
from pipelines.home import Home
from trainers.spec import TaskSpec

OK, INVALID_DATA, FAILED = "ok", "invalid_data", "failed"  # RunResult.outcome


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run asks for on top of its task (the CLI's pipeline options)."""

    train_steps: int | None = None
    """Training steps (RL: environment steps); None uses the task's default."""
    tune: bool = False
    """Add a Tuner and train with its best hyper-parameters."""
    tuner: str = "random"
    """keras-tuner algorithm: random, bayesian or hyperband."""
    trials: int = 6
    """Upper bound on Tuner trials."""
    warm_start: bool = False
    """Initialise the Trainer from the latest blessed model."""
    optimize: bool = False
    """Prune and quantise the blessed model to TFLite; push the .tflite files too."""
    overrides: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """`--set KEY=VALUE` hyper-parameters (`optimize.KEY` go to the ModelOptimizer)."""
    cache: bool = True
    """Reuse outputs of components whose inputs and settings did not change."""
    eval_episodes: int | None = None
    """RL: greedy evaluation episodes; None uses the kind's default."""
    beam_runner: str = "DirectRunner"
    """Beam runner of the data components."""
    beam_workers: int = 1
    """DirectRunner processes (multi_processing when > 1)."""
    beam_args: tuple[str, ...] = ()
    """Extra Beam arguments, passed through."""
    wait: bool = False
    """Wait for a running run of the same task instead of refusing to start."""
    accept_drift: bool = False
    """Let a span through whose distribution moved beyond the schema's drift thresholds."""

    def to_args(self) -> list[str]:
        """The `kfx run` flags that ask for these settings (defaults left out)."""
        default = Settings()
        flags: list[str] = []
        for field, flag in _FLAGS.items():
            value = getattr(self, field)
            if value == getattr(default, field):
                continue
            if isinstance(value, bool):
                flags.append(flag if value else "--no-cache")
            else:
                flags += [flag, str(value)]
        for key, value in self.overrides.items():
            flags += ["--set", f"{key}={value}"]
        for arg in self.beam_args:
            flags.append(f"--beam-arg={arg}")
        return flags


# Settings field → `kfx run` flag (overrides and beam_args are repeated flags).
_FLAGS = {
    "train_steps": "--train-steps",
    "tune": "--tune",
    "tuner": "--tuner",
    "trials": "--trials",
    "warm_start": "--warm-start",
    "optimize": "--optimize",
    "cache": "--no-cache",
    "eval_episodes": "--eval-episodes",
    "beam_runner": "--beam-runner",
    "beam_workers": "--beam-workers",
}


@dataclasses.dataclass(frozen=True)
class Staged:
    """A task ready to run: its spec and the spans this request added."""

    spec: TaskSpec
    added: tuple[Path, ...] = ()
    """Span folders the request's `--data` created (quarantined if they fail validation)."""
    source: str | None = None
    """The user's data file, for messages."""


@dataclasses.dataclass
class RunResult:
    """What one run did: its outcome, the MLMD summary and, on failure, why."""

    spec: TaskSpec
    run_id: str
    outcome: str
    """`OK` (the pipeline ran, blessed or not), `INVALID_DATA` or `FAILED`."""
    wall_s: float
    seconds: dict[str, float]
    """{component: seconds} of the components that ran or came from cache."""
    summary: metadata.RunSummary | None = None
    failed_node: str | None = None
    error: str | None = None
    """The failing component's last error line."""
    anomalies: list = dataclasses.field(default_factory=list)
    """`anomaly_gate.Anomaly`s when the data failed validation."""
    rejected: list[Path] = dataclasses.field(default_factory=list)
    """Where rejected spans were moved."""
    data_source: str = ""
    """What the run read (the user's file or the task's data folder), for messages."""
    frozen_schema: str | None = None
    """A CSV task's schema kept after its first run."""

    @property
    def blessed(self) -> bool:
        """Whether the evaluator blessed the candidate."""
        return bool(self.summary and self.summary.blessed)

    @property
    def pushed_model(self) -> str | None:
        """The versioned folder the Pusher wrote, if it pushed."""
        return self.summary.pushed_model if self.summary else None

    @property
    def value(self) -> float | None:
        """The main metric's value on the evaluation data."""
        return self.summary.value if self.summary else None

    @property
    def states(self) -> dict[str, str]:
        """{component: MLMD state}."""
        return {s.node: s.state for s in self.summary.steps} if self.summary else {}

    def to_json(self) -> dict:
        """What `kfx run --json` prints as its last line."""
        if self.outcome != OK or self.summary is None:
            return {
                "task": self.spec.name,
                "run_id": self.run_id,
                "error": self.failed_node,
                "blessed": False,
                "pushed_model": None,
            }
        s = self.summary
        return {
            "task": s.task,
            "run_id": s.run_id,
            "metric": s.metric,
            "value": s.value,
            "threshold": s.threshold,
            # Every evaluated metric, keyed 'METRIC' (one output) or 'OUTPUT/METRIC'; an
            # ungated one (an auxiliary output's) has threshold None.
            "metrics": {score.key: score.value for score in s.scores},
            "thresholds": {score.key: score.threshold for score in s.scores},
            "blessed": bool(s.blessed),
            # The gate's decision: value, threshold, naive, margin, baseline, passed, reason.
            "gate": s.gate,
            "pushed_model": s.pushed_model,
            "pushed_version": s.pushed_version,
            "span": s.span,
            "optimizer": s.optimized,
            "wall_s": round(self.wall_s, 3),
            "components": {k: round(v, 3) for k, v in self.seconds.items()},
            "states": {step.node: step.state for step in s.steps},
        }


def stage(
    home: Home,
    task: str | None = None,
    data: str | Path | None = None,
    label: str | None = None,
    name: str | None = None,
    threshold: float | None = None,
    env: str | None = None,
) -> Staged:
    """Resolves what to run: a task (maybe derived for `env`), a new CSV task, or new data.

    Call it under the task's lock (`run_task` does): it writes spans and task files.

    Raises:
        TaskError: the combination or a file cannot be used (the message names the fix).
    """
    requested_task(task, data, name, label)
    if data and label:
        before = spans.spans(home.data_dir(own_csv.csv_task_name(data, name)))
        spec = own_csv.register_csv(home, data, label, name, threshold)
        return Staged(spec, _added(home, spec, before), str(data))
    spec = tasks.get(task, home)
    if env:
        return Staged(kinds.of(spec).for_env(home, spec, env, threshold))
    spec = spec.with_threshold(threshold)
    if not data:
        return Staged(spec)
    before = spans.spans(home.data_dir(spec.name))
    spans.stage_data(home, spec, data)
    return Staged(spec, _added(home, spec, before), str(data))


def _added(home: Home, spec: TaskSpec, before: list[int]) -> tuple[Path, ...]:
    now = spans.spans(home.data_dir(spec.name))
    return tuple(spans.span_dir(home, spec.name, n) for n in now if n not in before)


def requested_task(task: str | None, data, name: str | None, label: str | None) -> str:
    """The task a request will run, known before anything is written (for the lock).

    Raises:
        TaskError: the arguments do not name one task.
    """
    if label and not data:
        raise TaskError("--label needs --data FILE.csv")
    if data and label:
        if task:
            raise TaskError("give either a TASK or --data/--label, not both")
        return own_csv.csv_task_name(data, name)
    if not task:
        raise TaskError("name a TASK (see `kfx tasks`) or bring --data FILE.csv --label COLUMN")
    return task


def run_options(spec: TaskSpec, settings: Settings, input_dir, **extra) -> options.RunOptions:
    """RunOptions for `spec`, after checking every option against the task and its kind.

    Raises:
        TaskError: an option the kind or the task's trainer cannot take.
    """
    try:
        beam = options.beam_args(
            settings.beam_runner, settings.beam_workers, tuple(settings.beam_args)
        )
    except ValueError as err:
        raise TaskError(str(err)) from None
    opts = options.RunOptions(
        input_dir=input_dir,
        train_steps=settings.train_steps,
        tune=settings.tune,
        tuner=settings.tuner,
        tune_trials=settings.trials,
        warm_start=settings.warm_start,
        enable_cache=settings.cache,
        hparams=dict(settings.overrides),
        beam_args=beam,
        optimize=settings.optimize,
        eval_episodes=settings.eval_episodes,
        accept_drift=settings.accept_drift,
        **extra,
    )
    kinds.of(spec).check(spec, opts)
    _check_overrides(spec, opts)
    return opts


def _check_overrides(spec: TaskSpec, opts: options.RunOptions) -> None:
    """Fails fast on a `--set` the task's HParams cannot take (not after Transform)."""
    if not opts.hparams:
        return
    from trainers.common import hparams

    trainer, optimizer = options.split_overrides(opts.hparams)
    try:
        hparams.override(importlib.import_module(spec.model_module).HParams(), trainer)
        if optimizer:
            if not opts.optimize:
                raise ValueError(f"optimize.{next(iter(optimizer))} needs --optimize")
            from components.model_optimizer import OptimizeParams

            hparams.override(OptimizeParams(), optimizer)
    except ValueError as err:
        raise TaskError(f"--set: {err}") from None


def _data_settings(spec: TaskSpec, settings: Settings) -> tuple[dict[str, Any], Settings]:
    """`--set` split into the data module's settings (e.g. data_dir) and the rest."""
    keys = spans.data_keys(spec)
    data_set = {k: v for k, v in settings.overrides.items() if k in keys}
    rest = {k: v for k, v in settings.overrides.items() if k not in keys}
    return data_set, dataclasses.replace(settings, overrides=rest)


def run_task(
    home: Home,
    task: str | None = None,
    settings: Settings = Settings(),
    *,
    data: str | Path | None = None,
    label: str | None = None,
    name: str | None = None,
    threshold: float | None = None,
    env: str | None = None,
    runner: str = "local",
    progress: local.Progress | None = None,
    verbose: bool = False,
    on_start: Callable[[TaskSpec, str], None] | None = None,
) -> RunResult:
    """Stages the data, runs the task's pipeline locally and reads the outcome from MLMD.

    `on_start(spec, run_id)` is called once the run is about to start (the CLI's first line).

    Raises:
        TaskError: bad arguments, a bad input file, or an option the task cannot take.
        HomeBusy: another run of the same task holds its lock.
    """
    started = time.monotonic()
    run_id = local.new_run_id()
    locked = requested_task(task, data, name, label)
    if task:  # bad options fail before anything is written
        known = tasks.get(task, home)
        run_options(known, _data_settings(known, settings)[1], home.data_dir(known.name))
    with home.lock(locked, wait=settings.wait):
        staged = stage(home, task, data, label, name, threshold, env)
        spec = staged.spec
        data_set, settings = _data_settings(spec, settings)
        input_dir = spans.input_dir(home, spec, data_set)
        opts = run_options(spec, settings, input_dir)
        if spec.source_task and metadata.latest_pushed_model(home, spec.source_task) is None:
            raise TaskError(
                f"{spec.name} builds on the pushed model of {spec.source_task!r}, and "
                f"{home.root} has none: run `kfx run {spec.source_task}` first"
            )
        if on_start is not None:
            on_start(spec, run_id)
        timings: dict[str, float] = {}

        def record(node: str, event: str, seconds: float) -> None:
            if event == "finished":
                timings[node] = seconds
            if progress is not None:
                progress(node, event, seconds)

        try:
            local.run(spec, home, opts, runner, record, verbose, run_id)
        except local.PipelineFailed as failure:
            return _failed(home, staged, failure, started, timings, input_dir)
        result = RunResult(
            spec,
            run_id,
            OK,
            time.monotonic() - started,
            timings,
            metadata.run_summary(home, spec.name, run_id, spec),
            data_source=staged.source or str(input_dir),
        )
        if own_csv.is_csv_task(spec) and spec.schema is None:
            result.frozen_schema = _freeze_schema(home, spec, run_id)
    return result


def _freeze_schema(home: Home, spec: TaskSpec, run_id: str) -> str | None:
    for artifact in metadata.node_outputs(home, spec.name, run_id, ids.SCHEMA_GEN):
        frozen = own_csv.freeze_schema(home, spec, Path(artifact.uri) / "schema.pbtxt")
        return frozen.schema
    return None


def _failed(home, staged: Staged, failure, started, timings, input_dir) -> RunResult:
    """The RunResult of a failed run; a span that failed validation is quarantined."""
    spec = staged.spec
    result = RunResult(
        spec,
        failure.run_id,
        FAILED,
        time.monotonic() - started,
        timings,
        metadata.run_summary(home, spec.name, failure.run_id, spec),
        failed_node=failure.node,
        data_source=staged.source or str(input_dir),
    )
    lines = str(failure.cause).strip().splitlines()
    result.error = lines[-1] if lines else str(failure.cause)
    if failure.node == ids.ANOMALY_GATE:
        from components import anomaly_gate

        result.outcome = INVALID_DATA
        readers = {
            ids.EXAMPLE_VALIDATOR: anomaly_gate.read,
            ids.DRIFT_CHECK: anomaly_gate.read_drift,
        }
        for node, read_findings in readers.items():  # what the AnomalyGate read
            for artifact in metadata.node_outputs(home, spec.name, failure.run_id, node):
                split_names = artifact.properties["split_names"].string_value
                result.anomalies += read_findings(artifact.uri, split_names)
        # The span that was read, however it arrived, moves aside: the next run falls back
        # to the last good span.
        why = anomaly_gate.message(result.anomalies, str(spec.schema_path or "the schema"))
        read = result.summary.span if result.summary else None
        bad = {*staged.added, *([spans.span_dir(home, spec.name, read)] if read else [])}
        result.rejected = [
            spans.quarantine(home, spec.name, span, failure.run_id, why)
            for span in sorted(bad)
            if span.is_dir()
        ]
    return result


def scheduled_run(home: Home, spec: TaskSpec, settings: Settings) -> list[str]:
    """The `kfx run` arguments a scheduled retraining runs, checked like a real run.

    Retraining starts from the latest blessed model where the task can (`--warm-start`);
    an option the task cannot take is refused now, not at 3 a.m.

    Raises:
        TaskError: an option the task's kind or trainer cannot take.
    """
    try:  # warm start where the kind and the task allow it
        run_options(spec, dataclasses.replace(settings, warm_start=True), home.data_dir(spec.name))
        settings = dataclasses.replace(settings, warm_start=True)
    except TaskError:
        if settings.warm_start:
            raise
    run_options(spec, settings, home.data_dir(spec.name))
    return ["run", spec.name, *settings.to_args(), "--json"]


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A compiled pipeline file and where its run reads and writes."""

    path: Path
    image: str
    pipeline_root: str
    data_dir: str | None
    """Where to upload the task's data (None: the task needs none)."""
    target: str = "kubeflow"
    """'kubeflow' (open-source KFP v2) or 'vertex'."""
    schema_file: str | None = None
    """Where to upload the task's curated schema (None: the task has none)."""


def compile_task(
    home: Home,
    spec: TaskSpec,
    settings: Settings,
    image: str,
    pipeline_root: str,
    *,
    accelerator: str | None = None,
    tpu: str | None = None,
    source_model: str | None = None,
    output: str | Path | None = None,
    target: str = "kubeflow",
) -> Compiled:
    """Compiles the task for Kubeflow into one two-document YAML (PipelineSpec + PlatformSpec).

    `target`: 'kubeflow' (open-source Kubeflow Pipelines v2) or 'vertex' (Vertex AI
    Pipelines); pipelines/targets.py says what differs.

    Raises:
        TaskError: a bad option (placement, a missing `--source-model`).
    """
    from pipelines import kubeflow, placement

    try:
        training = placement.training_placement(spec.placement, accelerator, tpu)
    except ValueError as err:
        raise TaskError(str(err)) from None
    remote = kubeflow.RemoteHome(pipeline_root)
    opts = run_options(spec, settings, remote.data_dir(spec.name), source_model=source_model)
    try:
        documents = kubeflow.compile_pipeline(spec, opts, image, pipeline_root, training, target)
    except ValueError as err:
        raise TaskError(f"kfx compile {spec.name}: {err}") from None
    path = Path(output) if output else home.root / "compiled" / f"{spec.name}.yaml"
    kubeflow.write(documents, path)
    data_dir = remote.data_dir(spec.name) if kinds.of(spec).reads_data else None
    schema = remote.schema_file(spec.name) if spec.schema_path is not None else None
    return Compiled(path, image, pipeline_root, data_dir, target, schema)


def run_kfp_local(
    home: Home,
    task: str,
    settings: Settings = Settings(),
    *,
    data: str | Path | None = None,
    threshold: float | None = None,
    progress: Callable[[str, str, float], None] | None = None,
    verbose: bool = False,
):
    """Compiles `task` for open-source Kubeflow and executes the YAML with kfp.local.

    `data` becomes the task's next span, uploaded to the remote-style folder with the others;
    `threshold` gates this run's main metric.

    Returns a `kfp_local.KfpLocalRun`: each task's status, the gate's decision, the push.

    Raises:
        TaskError: an unknown task, a bad file or an option the task cannot take.
        HomeBusy: another run of the same task holds its lock.
    """
    from pipelines import kfp_local

    known = tasks.get(task, home)
    run_options(known, settings, home.data_dir(known.name))  # bad options fail first
    with home.lock(known.name, wait=settings.wait):
        spec = stage(home, task, data, threshold=threshold).spec

        def package_for(remote, image: str) -> Path:
            output = Path(remote.root) / "compiled" / f"{spec.name}.yaml"
            return compile_task(home, spec, settings, image, remote.root, output=output).path

        return kfp_local.run(home, spec, package_for, progress, verbose)
