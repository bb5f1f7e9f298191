"""Run a task's pipeline on this machine (LocalDagRunner or BeamDagRunner) with progress."""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

from pipelines import kinds
from pipelines.home import Home
from pipelines.options import RunOptions
from trainers.spec import TaskSpec

RUNNERS = ("local", "beam")
# LocalDagRunner logs "Component X is running.", BeamDagRunner "node X is running.".
_PROGRESS = re.compile(r"^(?:Component|node) (\S+) is (running|finished)\.$")

Progress = Callable[[str, str, float], None]  # (component, "running"|"finished", seconds)


def new_run_id() -> str:
    """A sortable, unique-enough run id (also the MLMD pipeline_run context name)."""
    return datetime.datetime.now().isoformat(timespec="milliseconds")


def compile_ir(pipeline, run_id: str):
    """Pipeline IR with the run id bound, so the caller knows which MLMD run is this one."""
    from tfx.dsl.compiler import constants
    from tfx.orchestration.portable import runtime_parameter_utils, tfx_runner

    ir = tfx_runner._make_pipeline_proto(pipeline)  # what TfxRunner.run does before run_with_ir
    runtime_parameter_utils.substitute_runtime_parameter(
        ir, {constants.PIPELINE_RUN_ID_PARAMETER_NAME: run_id}
    )
    return ir


class _ProgressHandler(logging.Handler):
    """Turns the runners' 'is running' / 'is finished' log lines into progress callbacks."""

    def __init__(self, progress: Progress):
        super().__init__(level=logging.INFO)
        self._progress = progress
        self._started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = _PROGRESS.match(record.getMessage())
        if not match:
            return
        node, event = match.groups()
        now = time.monotonic()
        if event == "running":
            self._started[node] = now
            self._progress(node, "running", 0.0)
        else:
            self._progress(node, "finished", now - self._started.pop(node, now))

    @property
    def running(self) -> list[str]:
        """Components that started and did not finish (the failed one, after an error)."""
        return list(self._started)


@contextlib.contextmanager
def _captured_logs(progress: Progress | None, log_path: Path | None, verbose: bool):
    """Routes absl/TFX/Beam logs to `log_path` (and the console only when verbose)."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.INFO)
    loggers = [
        absl_logging.get_absl_logger(),
        logging.getLogger("apache_beam"),
        logging.getLogger("tensorflow"),
    ]
    handlers: list[logging.Handler] = []
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.FileHandler(log_path)
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
        )
        handlers.append(file_handler)
    handler = _ProgressHandler(progress or (lambda *_: None))
    handlers.append(handler)
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.INFO)
        lg.propagate = verbose
        if not verbose:  # TensorFlow's logger prints through a handler of its own
            for h in list(lg.handlers):
                lg.removeHandler(h)
        for h in handlers:
            lg.addHandler(h)
    try:
        yield handler
    finally:
        for lg, level, propagate, own in saved:
            for h in list(lg.handlers):
                lg.removeHandler(h)
            for h in own:
                lg.addHandler(h)
            lg.setLevel(level)
            lg.propagate = propagate
        for h in handlers:
            h.close()


def _partial(to_nodes: tuple[str, ...]):
    if not to_nodes:
        return None
    from tfx.proto.orchestration import pipeline_pb2

    options = pipeline_pb2.RunOptions()
    options.partial_run.to_nodes.extend(to_nodes)
    return options


class PipelineFailed(RuntimeError):
    """A component raised; `node` names it and `run_id` identifies the run in MLMD."""

    def __init__(self, run_id: str, node: str | None, cause: BaseException):
        super().__init__(f"{node or 'pipeline'} failed: {cause}")
        self.run_id, self.node, self.cause = run_id, node, cause


def log_file(home: Home, task: str, run_id: str) -> Path:
    """Where one run's TFX, Beam and TensorFlow logs go."""
    return home.logs_dir() / f"{task}-{run_id.replace(':', '')}.log"


def run(
    spec: TaskSpec,
    home: Home,
    opts: RunOptions,
    runner: str = "local",
    progress: Progress | None = None,
    verbose: bool = False,
    run_id: str | None = None,
    to_nodes: tuple[str, ...] = (),
) -> str:
    """Runs the task's pipeline to completion and returns its run id.

    `to_nodes` runs only those components and what they need (a TFX partial run), e.g.
    `("Transform",)` for the data half of the pipeline.

    Raises:
        PipelineFailed: a component failed (MLMD records which; logs are in home/logs).

    """
    if runner not in RUNNERS:
        raise ValueError(f"unknown runner {runner!r}; use one of {', '.join(RUNNERS)}")
    run_id = run_id or new_run_id()
    ir = compile_ir(kinds.create_pipeline(spec, home, opts), run_id)
    if runner == "beam":
        from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner as Runner
    else:
        from tfx.orchestration.local.local_dag_runner import LocalDagRunner as Runner
    log_path = log_file(home, spec.name, run_id)
    with _captured_logs(progress, log_path, verbose) as handler:
        try:
            Runner().run_with_ir(ir, run_options=_partial(to_nodes))
        except Exception as err:  # noqa: BLE001 (any component error ends the run)
            failed = handler.running[-1] if handler.running else None
            logging.getLogger("absl").exception("kfx: %s failed", failed or "pipeline")
            raise PipelineFailed(run_id, failed, err) from err
    return run_id
