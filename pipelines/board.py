"""`kfx tensorboard`: a task's training runs side by side in the venv's TensorBoard.

The runs' `model_run` directories (Trainer's or RLTrainer's ModelRun artifacts) come from
MLMD; each is named after its run id, start and blessing, and TensorBoard gets them all as
one `--logdir_spec name:path,...`. TensorBoard's own output goes to HOME/logs/.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines import metadata
from pipelines.errors import TaskError
from pipelines.home import Home

DEFAULT_PORT, DEFAULT_HOST, DEFAULT_RUNS = 6006, "127.0.0.1", 10
READY_TIMEOUT_S = 120.0  # TensorBoard needs ~10 s to serve on a busy 2-core machine


def run_name(run: metadata.RunSummary) -> str:
    """'RUN_ID [START] blessed|not-blessed|no-gate', without TensorBoard's separators (: ,)."""
    start = datetime.datetime.fromtimestamp(run.started).strftime("%Y-%m-%d %H.%M")
    blessing = {True: "blessed", False: "not-blessed", None: "no-gate"}[run.blessed]
    name = re.sub(r"[:,]", ".", run.run_id)
    dated = name if start[:10] in name else f"{name} {start}"
    return f"{dated} {blessing}"


def logdir_spec(home: Home, spec, limit: int = DEFAULT_RUNS) -> list[tuple[str, str]]:
    """[(name, model_run directory)] of the task's newest `limit` training runs.

    Raises:
        TaskError: no run of the task trained a model.
    """
    found = [(run_name(run), path) for run, path in metadata.model_runs(home, spec)[:limit]]
    found = [(name, path) for name, path in found if Path(path).is_dir()]
    if not found:
        raise TaskError(
            f"{spec.name} has no training runs in {home.root}: run `kfx run {spec.name}` first"
        )
    return found


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nothing listens on now (the OS's pick)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def check_port(host: str, port: int) -> None:
    """Raises TaskError naming the fix when `host:port` cannot be listened on."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except PermissionError:
            raise TaskError(f"port {port} needs privileges: pass --port 6006 or higher") from None
        except OSError as err:
            raise TaskError(
                f"port {port} on {host} is in use ({err.strerror}): pass --port N, e.g. "
                f"--port {free_port(host)}, or stop what listens there"
            ) from None


def _command() -> list[str]:
    script = Path(sys.executable).with_name("tensorboard")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tensorboard.main"]


@dataclasses.dataclass
class Server:
    """A running TensorBoard process."""

    process: subprocess.Popen
    url: str
    runs: list[tuple[str, str]]
    log: Path

    def stop(self, timeout: float = 20.0) -> int:
        """Terminates TensorBoard (killed after `timeout` seconds); returns its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


def _ready(server: Server, timeout: float) -> None:
    """Waits until TensorBoard answers /data/runs (it exits or times out: TaskError)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log.read_text(errors="replace").strip().splitlines()[-1:]
            raise TaskError(
                f"TensorBoard exited ({server.process.returncode}): {' '.join(tail) or 'no output'}"
                f"; its log is {server.log}"
            )
        try:
            with urllib.request.urlopen(f"{server.url}data/runs", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    server.stop()
    raise TaskError(f"TensorBoard did not answer within {timeout:.0f} s; see {server.log}")


def start(
    home: Home,
    spec,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    limit: int = DEFAULT_RUNS,
    timeout: float = READY_TIMEOUT_S,
) -> Server:
    """Starts TensorBoard over the task's newest runs and waits until it serves.

    Raises:
        TaskError: no training runs, the port is taken, or TensorBoard did not come up.
    """
    runs = logdir_spec(home, spec, limit)
    port = port or free_port(host)
    check_port(host, port)
    log = home.logs_dir() / f"tensorboard-{spec.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    args = [
        *_command(),
        "--logdir_spec",
        ",".join(f"{name}:{path}" for name, path in runs),
        "--host",
        host,
        "--port",
        str(port),
        "--reload_interval",
        "15",
    ]
    with open(log, "w") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)
    server = Server(process, f"http://{host}:{port}/", runs, log)
    _ready(server, timeout)
    return server
