"""What several `make bench` scripts share: whole `kfx run` processes and what a run wrote.

`kfx_run` runs one `kfx --home HOME run TASK --json` process as a user would and returns its
JSON summary with the process wall time, the 1-minute load average at its start, the exit
code and, on failure, stderr's last line. `split_rows` reads the raw examples ExampleGen
wrote for one run (found through MLMD, so a cached run reads the artifact it reused).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))


def timed(args: Sequence[str]) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs one process to its end: (the process, {process_s, cpu_s, load}).

    `cpu_s` is the user + system CPU time of the process and its children (a steadier
    figure than wall time on a shared machine); `load` the 1-minute load average at start.
    """

    def children_cpu() -> float:
        use = resource.getrusage(resource.RUSAGE_CHILDREN)
        return use.ru_utime + use.ru_stime

    load, cpu, start = os.getloadavg()[0], children_cpu(), time.monotonic()
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    return proc, {"process_s": wall, "cpu_s": children_cpu() - cpu, "load": load}


def kfx_run(home: Path, task: str, sets: Sequence[str] = (), extra: Sequence[str] = ()) -> dict:
    """One `kfx run TASK --json [--set S ...] [EXTRA ...]` process in `home`.

    Returns its summary plus `timed`'s figures, `code`, `sets` and, when it failed, `error`
    (stderr's last line). Never exits: the caller decides what a failure means.
    """
    args = [KFX, "--home", str(home), "run", task, "--json", *extra]
    for pair in sets:
        args += ["--set", pair]
    proc, figures = timed(args)
    summary = last_json(proc.stdout)
    summary.update(figures, task=task, sets=tuple(sets), code=proc.returncode)
    if proc.returncode != 0 or "value" not in summary:
        summary["error"] = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:300]
    return summary


def last_json(stdout: str) -> dict:
    """The JSON object on the last line of a process's stdout ({} if there is none)."""
    lines = stdout.strip().splitlines()
    try:
        return json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}


def failed(summary: dict) -> bool:
    """Whether a `kfx_run` summary is of a run that did not get to a gate decision."""
    return summary["code"] != 0 or summary.get("value") is None


def sources_of(task: str) -> list[str]:
    """The tasks whose pushed models `task` builds on (TaskSpec.source_task), farthest first."""
    from pipelines import tasks

    chain, source = [], tasks.builtin()[task].source_task
    while source:
        chain.insert(0, source)
        source = tasks.builtin()[source].source_task
    return chain


def node_artifact(home: Path, task: str, run_id: str, nodes: Sequence[str]):
    """The first output artifact of the first of `nodes` that ran (or was cached) in `run_id`.

    Raises:
        FileNotFoundError: none of `nodes` has an output in that run.
    """
    from pipelines import metadata
    from pipelines.home import Home

    for node in nodes:
        found = metadata.node_outputs(Home.resolve(home), task, run_id, node)
        if found:
            return found[0]
    raise FileNotFoundError(f"{home}: no output of {', '.join(nodes)} in run {run_id} of {task}")


def split_rows(home: Path, task: str, run_id: str, split: str) -> list[dict]:
    """The raw examples ExampleGen wrote into `split` for `run_id`: one dict per example.

    A feature with one value maps to that value, a longer one to its list (an image's
    pixels); strings are decoded.
    """
    import tensorflow as tf

    from pipelines import ids

    examples = node_artifact(home, task, run_id, ids.EXAMPLE_GENS)
    files = sorted(tf.io.gfile.glob(os.path.join(examples.uri, f"Split-{split}", "*")))
    if not files:
        raise FileNotFoundError(f"{examples.uri}: no Split-{split} files")
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        example = tf.train.Example.FromString(record.numpy())
        row = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            values = [v.decode() if isinstance(v, bytes) else v for v in values]
            row[name] = values[0] if len(values) == 1 else (values or None)
        rows.append(row)
    return rows


def median_spread(values: Sequence[float], unit: str = "s", digits: int = 1) -> str:
    """'median UNIT (min–max, n=N)' of repeated timings."""
    low, high = min(values), max(values)
    return (
        f"{statistics.median(values):.{digits}f} {unit} "
        f"({low:.{digits}f}–{high:.{digits}f}, n={len(values)})"
    )
