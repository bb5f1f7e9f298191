"""`make bench`: every built-in supervised course task (not penguin) at default settings.

Each task is one `kfx run TASK --json` process in a fresh home, as a user runs it. For each:
its gating metric, threshold and value, whether it was blessed, the Trainer's wall time (from
the summary's `components`), the process wall time and the bytes of the pushed SavedModel.
The rows replace this benchmark's section of BENCHMARKS.md; with `--tasks a,b` only those
rows are re-measured and the other rows stay as they were (each row says when it was
measured). Exits 1 when a task fails or is not blessed: the thresholds must hold here.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))
BEGIN, END = "<!-- bench:tasks:begin -->", "<!-- bench:tasks:end -->"
SKIP = ("penguin",)  # bench_pipeline.py measures it cold and cached
HEADER = (
    "| task | metric | threshold | value | blessed | train (s) | total (s) | pushed model "
    "| load at start | measured |"
)


def supervised_tasks() -> dict[str, bool]:
    """Built-in supervised tasks in registry order (penguin excepted): higher is better?"""
    sys.path.insert(0, str(ROOT))
    from pipelines import tasks

    return {
        name: spec.higher_is_better
        for name, spec in tasks.builtin().items()
        if spec.kind == "supervised" and name not in SKIP
    }


def tree_bytes(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def sources_of(task: str) -> list[str]:
    """The tasks whose pushed models `task` builds on (TaskSpec.source_task), farthest first."""
    sys.path.insert(0, str(ROOT))
    from pipelines import tasks

    chain, source = [], tasks.builtin()[task].source_task
    while source:
        chain.insert(0, source)
        source = tasks.builtin()[source].source_task
    return chain


def run_task(task: str, home: Path) -> dict:
    """One `kfx run TASK --json` process in a fresh home: its summary plus wall and load.

    A task built on another task's pushed model (transfer, distill) first gets its source
    tasks run in the same home at their defaults; wall and load are the task's own.
    """
    shutil.rmtree(home, ignore_errors=True)
    for source in sources_of(task):
        subprocess.run([KFX, "--home", str(home), "run", source], capture_output=True, check=False)
    load = os.getloadavg()[0]
    start = time.monotonic()
    proc = subprocess.run(
        [KFX, "--home", str(home), "run", task, "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - start
    lines = proc.stdout.strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        summary = {}
    summary.update(task=task, process_s=wall, load=load, code=proc.returncode)
    if proc.returncode != 0:
        summary["error"] = (proc.stderr.strip().splitlines() or ["(no output)"])[-1][:200]
    pushed = summary.get("pushed_model")
    summary["model_bytes"] = tree_bytes(Path(pushed)) if pushed else None
    return summary


def _size(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e6:.2f} MB ({n:,} B)"


def row(result: dict, higher: bool, today: str) -> str:
    """One table row (also for a failed run)."""
    task = result["task"]
    if result["code"] != 0 and "value" not in result:
        return (
            f"| `{task}` | — | — | failed (exit {result['code']}: {result.get('error', '')}) "
            f"| no | — | {result['process_s']:.1f} | — | {result['load']:.1f} | {today} |"
        )
    extra = {k: v for k, v in (result.get("metrics") or {}).items() if k != result["metric"]}
    value = f"{result['value']:.4f}" + "".join(f"; {k} {v:.4f}" for k, v in extra.items())
    train = result.get("components", {}).get("Trainer")
    return (
        f"| `{task}` | {result['metric']} | {'≥' if higher else '≤'} {result['threshold']:g} "
        f"| {value} | {'yes' if result['blessed'] else '**no**'} "
        f"| {'—' if train is None else f'{train:.1f}'} | {result['process_s']:.1f} "
        f"| {_size(result['model_bytes'])} | {result['load']:.1f} | {today} |"
    )


def kept_rows(out: Path, measured: set[str]) -> dict[str, str]:
    """Rows of the existing section for tasks not measured this time, by task."""
    text = out.read_text() if out.exists() else ""
    if BEGIN not in text:
        return {}
    section = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            task = line.split("`")[1]
            if task not in measured:
                rows[task] = line
    return rows


def render(rows: list[str], loads: list[float], note: str, tasks: str = "") -> str:
    """The BENCHMARKS.md section (`tasks`: the `--tasks` of this measurement, if any)."""
    command = f"{Path(sys.executable).name} tests/bench/bench_tasks.py"
    command = f"`{command} --tasks {tasks}`" if tasks else f"`make bench` (= `{command}`)"
    lines = [
        BEGIN,
        "## Course tasks at default settings",
        "",
        f"Command: {command}, "
        f"on {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}. "
        "Each task is one `kfx run TASK --json` process in a fresh home: default train steps "
        "and hyper-parameters, LocalDagRunner, in-memory Beam. *value* is the Evaluator's "
        "metric on the eval split (a third of the data); *train* is the Trainer component's "
        "wall time (start-up, training and export), *total* the process wall time; *pushed "
        "model* is the size of the pushed SavedModel directory (with the Transform graph "
        "inside); *load at start* is the 1-minute load average when the run started.",
    ]
    if loads:
        lines += [
            "",
            f"The machine was shared with other engineers' work: the 1-minute load average on "
            f"these {os.cpu_count()} cores was {min(loads):.1f}–{max(loads):.1f} when the runs "
            "of this measurement started, so wall times are noisy (slower than an idle machine).",
        ]
    if note:
        lines += ["", note]
    lines += ["", HEADER, "|---|---|---|---|---|---|---|---|---|---|", *rows, END]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--tasks", default="", help="comma-separated tasks (default: all)")
    parser.add_argument("--note", default="", help="a sentence about the machine, kept")
    args = parser.parse_args()
    known = supervised_tasks()
    wanted = [t.strip() for t in args.tasks.split(",") if t.strip()] or list(known)
    unknown = [t for t in wanted if t not in known]
    if unknown:
        sys.exit(
            f"--tasks: {', '.join(unknown)} not built-in supervised tasks; known: {list(known)}"
        )
    today = datetime.date.today().isoformat()
    measured, loads, failed = {}, [], []
    for task in wanted:
        result = run_task(task, ROOT / ".bench" / "tasks" / task)
        measured[task] = row(result, known[task], today)
        loads.append(result["load"])
        print(measured[task], file=sys.stderr)
        if result["code"] != 0 or result.get("blessed") is not True:
            failed.append(task)
    kept = kept_rows(args.out, set(wanted))
    rows = [measured.get(t) or kept[t] for t in known if t in measured or t in kept]
    section = render(rows, loads, args.note, args.tasks)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failed:
        sys.exit(f"not blessed at default settings: {', '.join(failed)}")


if __name__ == "__main__":
    main()
