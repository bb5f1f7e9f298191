"""`kfx run TASK --runner kfp-local`: the task's compiled Kubeflow YAML, executed by kfp.local.

The run compiles the task for open-source Kubeflow Pipelines (the same file `kfx compile`
writes), loads it with `kfp.components.load_component_from_file` and runs it with kfp 2.13's
local pipeline orchestrator. Each container task runs the command its image would run
(`python -m components.entrypoint ...`, TFX's v2 entrypoint), here in the project's environment
(`VenvTaskHandler`); importers are kfp.local's own. Pipeline root, data and push folders are a
"remote-style" folder (`HOME/kfp-local`), laid out as `kfx compile --pipeline-root` lays out a
bucket, and nothing is read from the home's MLMD: what one run hands the next (the baseline, a
warm start) goes through the push folder, exactly as on a cluster.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipelines import kinds, kubeflow, serving, spans
from pipelines.home import Home
from trainers.spec import TaskSpec

FOLDER = "kfp-local"  # under the home: pipeline root, data and push folders
IMAGE = "kfx-local"  # never pulled: the handler runs each command in this environment
PROJECT = Path(__file__).resolve().parent.parent
Progress = Callable[[str, str, float], None]  # (task, "running"/"finished"/"failed", seconds)


@dataclasses.dataclass
class TaskRun:
    """One executed container task."""

    name: str
    status: str
    """'SUCCESS' or 'FAILURE'."""
    seconds: float
    log: Path


@dataclasses.dataclass
class KfpLocalRun:
    """What one kfp.local run of a compiled pipeline did."""

    spec: TaskSpec
    package: Path
    """The compiled YAML that was executed."""
    root: Path
    """The remote-style folder (pipeline root, data, serving)."""
    run_dir: Path | None
    """This run's artifacts: `<pipeline root>/<pipeline>-<timestamp>/<task>/<output>`."""
    tasks: list[TaskRun]
    failed: str | None
    """The task that failed, or None."""
    decision: dict | None
    """The gate's `gate.json` (None: the run stopped before the gate)."""
    pushed: str | None
    """The version folder this run pushed, or None."""
    error: str = ""
    """The failing task's exception, as its log ends (empty when nothing failed)."""

    @property
    def blessed(self) -> bool:
        """Whether the gate blessed the candidate."""
        return bool(self.decision and self.decision.get("passed"))

    def to_json(self) -> dict:
        """A JSON-able summary (`kfx run --runner kfp-local --json`)."""
        return {
            "task": self.spec.name,
            "runner": "kfp-local",
            "package": str(self.package),
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "tasks": {t.name: t.status for t in self.tasks},
            "failed": self.failed,
            "blessed": self.blessed,
            "decision": self.decision,
            "pushed": self.pushed,
            "error": self.error,
        }


INVOCATION, INPUTS_SPEC = "--json_serialized_invocation_args", "--json_serialized_inputs_spec_args"


def _arg(command: list[str], flag: str) -> str | None:
    return next((command[i + 1] for i, c in enumerate(command[:-1]) if c == flag), None)


def _task_folder(command: list[str]) -> str:
    """The folder kfp.local made for the task a container command belongs to."""
    invocation = _arg(command, INVOCATION)
    if invocation is None:
        return Path(command[0]).name
    return Path(json.loads(invocation)["outputs"]["outputFile"]).parent.name


def typed_inputs(command: list[str]) -> list[str]:
    """`command` with each input artifact's type as the component declares it.

    kfp.local keeps upstream outputs as `dsl.Artifact`s, which forget a type KFP does not
    know (`tfx.Examples` comes back as `system.Artifact`, and TFX's entrypoint cannot import
    that); a cluster reads the type from MLMD. The declared input type is the producer's.
    """
    invocation, spec = _arg(command, INVOCATION), _arg(command, INPUTS_SPEC)
    if invocation is None or spec is None:
        return command
    executor_input, declared = json.loads(invocation), json.loads(spec).get("artifacts", {})
    for key, artifact_list in executor_input.get("inputs", {}).get("artifacts", {}).items():
        wanted = declared.get(key, {}).get("artifactType")
        for artifact in artifact_list.get("artifacts", []) if wanted else ():
            artifact["type"] = wanted
    at = command.index(INVOCATION) + 1
    return [*command[:at], json.dumps(executor_input), *command[at + 1 :]]


class VenvTaskHandler:
    """kfp.local task handler: a container's command, run in this Python environment.

    kfp.local picks its handler by runner type and has no registry for new ones, and its
    SubprocessRunner's handler refuses container components; `installed` swaps this class in
    for the duration of one run. The command is the image's (`python -m ...`), with `python`
    being this interpreter and the project on PYTHONPATH, so the code that runs is the code the
    image would hold.
    """

    log_dir: Path = Path(".")
    progress: Progress | None = None
    verbose: bool = False
    record: list[TaskRun] = []
    names: dict[str, str] = {}
    """kfp.local's task folder → DAG task name (it cuts 5 characters, meant for `comp-`)."""

    def __init__(self, image: str, full_command: list[str], pipeline_root: str, runner) -> None:
        self.image, self.pipeline_root = image, pipeline_root
        python = {"python", "python3"}
        command = [sys.executable if c in python else c for c in full_command]
        self.full_command = typed_inputs(command)

    def run(self):
        """Runs the command; SUCCESS or FAILURE as kfp.local's handlers report it."""
        from kfp.local import status

        folder = _task_folder(self.full_command)
        name = self.names.get(folder, folder)
        log = self.log_dir / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
        if self.progress:
            self.progress(name, "running", 0.0)
        started = time.monotonic()
        with open(log, "w") as handle:
            code = subprocess.run(
                self.full_command,
                stdout=None if self.verbose else handle,
                stderr=subprocess.STDOUT if not self.verbose else None,
                env=env,
                cwd=PROJECT,
                check=False,
            ).returncode
        seconds = time.monotonic() - started
        ok = code == 0
        self.record.append(TaskRun(name, "SUCCESS" if ok else "FAILURE", seconds, log))
        if self.progress:
            self.progress(name, "finished" if ok else "failed", seconds)
        return status.Status.SUCCESS if ok else status.Status.FAILURE


@contextlib.contextmanager
def installed(log_dir: Path, progress: Progress | None, verbose: bool, names: dict[str, str]):
    """`VenvTaskHandler` as kfp.local's SubprocessRunner handler, for one run."""
    from kfp.local import subprocess_task_handler

    handler = type(
        "VenvTaskHandler",
        (VenvTaskHandler,),
        {
            "log_dir": log_dir,
            "progress": staticmethod(progress) if progress else None,
            "verbose": verbose,
            "record": [],
            "names": names,
        },
    )
    original = subprocess_task_handler.SubprocessTaskHandler
    subprocess_task_handler.SubprocessTaskHandler = handler
    try:
        yield handler
    finally:
        subprocess_task_handler.SubprocessTaskHandler = original


def remote_home(home: Home) -> kubeflow.RemoteHome:
    """The remote-style layout a kfp.local run reads and writes (`HOME/kfp-local`)."""
    return kubeflow.RemoteHome(str(home.root / FOLDER))


def upload_data(home: Home, spec: TaskSpec, remote: kubeflow.RemoteHome) -> None:
    """Copies the schema and the spans the remote folder lacks (what a user uploads)."""
    if not kinds.of(spec).reads_data:
        return
    if spec.schema_path is not None:
        schema = Path(remote.schema_file(spec.name))
        schema.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.schema_path, schema)
    local_root = spans.input_dir(home, spec)
    target = Path(remote.data_dir(spec.name))
    # A span the pipeline rejected stays rejected (the gate moved it to rejected/ there).
    rejected = {p.name.split("-")[1] for p in target.glob(f"{spans.REJECTED}/{spans.SPAN}*")}
    for number in spans.spans(local_root):
        source = local_root / f"{spans.SPAN}{number}"
        destination = target / source.name
        if not destination.exists() and str(number) not in rejected:
            tmp = target / f".upload-{source.name}"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(source, tmp)
            tmp.rename(destination)


def last_error(log: Path) -> str:
    """The exception a task's log ends with.

    From the first unindented line after the last traceback's frames to the end: the
    message may go on over indented lines (the AnomalyGate lists one anomaly a line).
    """
    text = log.read_text(errors="replace") if log.is_file() else ""
    _, found, tail = text.rpartition("Traceback (most recent call last):")
    if not found:
        return ""
    lines = tail.splitlines()
    start = next((i for i, line in enumerate(lines) if line and not line[0].isspace()), None)
    return "" if start is None else "\n".join(lines[start:][:40]).strip()


def task_folders(package: Path) -> dict[str, str]:
    """{kfp.local's folder name: DAG task name} of a compiled pipeline."""
    import yaml
    from kfp.local import executor_input_utils

    spec = next(yaml.safe_load_all(package.read_text()))
    return {
        executor_input_utils.get_local_task_resource_name(task["componentRef"]["name"]): name
        for name, task in spec["root"]["dag"]["tasks"].items()
    }


def _decision(run_dir: Path | None, spec: TaskSpec, folders: dict[str, str]) -> dict | None:
    if run_dir is None:
        return None
    folder_of = {task: f for f, task in folders.items()}
    folder = folder_of.get(kinds.of(spec).decision_node(folder_of), "")
    gate = run_dir / folder / "blessing" / "gate.json"
    return json.loads(gate.read_text()) if gate.is_file() else None


def run(
    home: Home,
    spec: TaskSpec,
    package_for: Callable[[kubeflow.RemoteHome, str], Path],
    progress: Progress | None = None,
    verbose: bool = False,
) -> KfpLocalRun:
    """Compiles with `package_for(remote, image)` and executes the YAML with kfp.local.

    The caller holds the task's lock (`Home.lock`).
    """
    from kfp import components, local

    remote = remote_home(home)
    upload_data(home, spec, remote)
    package = package_for(remote, IMAGE)
    pipeline_root = Path(remote.pipeline_root(spec.name))
    before = set(pipeline_root.iterdir()) if pipeline_root.is_dir() else set()
    serving_dir = Path(remote.serving_dir(spec.name))
    pushed_before = set(serving.pushed_versions(serving_dir))
    log_dir = home.logs_dir() / f"{spec.name}-kfp-local-{time.strftime('%Y%m%dT%H%M%S')}"
    local.init(
        runner=local.SubprocessRunner(use_venv=False),
        pipeline_root=str(pipeline_root),
        raise_on_error=False,
    )
    pipeline = components.load_component_from_file(str(package))
    folders = task_folders(package)
    with installed(log_dir, progress, verbose, folders) as handler, _quiet(verbose):
        pipeline()
    new_dirs = sorted(set(pipeline_root.iterdir()) - before) if pipeline_root.is_dir() else []
    run_dir = new_dirs[-1] if new_dirs else None
    failed_task = next((t for t in handler.record if t.status != "SUCCESS"), None)
    pushed = sorted(set(serving.pushed_versions(serving_dir)) - pushed_before)
    return KfpLocalRun(
        spec=spec,
        package=package,
        root=Path(remote.root),
        run_dir=run_dir,
        tasks=list(handler.record),
        failed=failed_task.name if failed_task else None,
        error=last_error(failed_task.log) if failed_task else "",
        decision=_decision(run_dir, spec, folders),
        pushed=str(serving_dir / str(pushed[-1])) if pushed else None,
    )


@contextlib.contextmanager
def _quiet(verbose: bool):
    """kfp.local's own log lines only with `-v` (kfx prints progress instead)."""
    import logging

    if verbose:
        yield
        return
    previous = logging.root.manager.disable
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(previous)


def task_command(package: Path, task_id: str, pipeline_root: str) -> list[str]:
    """The full command a cluster would run for `task_id` of a compiled pipeline.

    Placeholders are filled as kfp.local fills them (executor input with URIs under
    `pipeline_root`); for a task whose inputs are all constants (ImportSchemaGen, say).
    """
    import yaml
    from google.protobuf import json_format
    from kfp.local import executor_input_utils, placeholder_utils
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = json_format.ParseDict(
        next(yaml.safe_load_all(package.read_text())), pipeline_spec_pb2.PipelineSpec()
    )
    task = spec.root.dag.tasks[task_id]
    component = spec.components[task.component_ref.name]
    arguments = {
        name: json_format.MessageToDict(value.runtime_value.constant)
        for name, value in task.inputs.parameters.items()
    }
    executor = spec.deployment_spec.fields["executors"].struct_value.fields[
        component.executor_label
    ]
    container = json_format.MessageToDict(executor)["container"]
    pipeline_name = executor_input_utils.get_local_pipeline_resource_name(spec.pipeline_info.name)
    task_name = executor_input_utils.get_local_task_resource_name(task.component_ref.name)
    task_root = executor_input_utils.construct_local_task_root(
        pipeline_root, pipeline_name, task_name
    )
    executor_input = executor_input_utils.construct_executor_input(
        component, arguments, task_root, block_input_artifact=True
    )
    return placeholder_utils.replace_placeholders(
        full_command=[*container["command"], *container["args"]],
        executor_input_dict=executor_input_utils.executor_input_to_dict(executor_input, component),
        pipeline_resource_name=pipeline_name,
        task_resource_name=task_name,
        pipeline_root=pipeline_root,
        unique_pipeline_id=placeholder_utils.make_random_id(),
    )
