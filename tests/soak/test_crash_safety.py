"""kill -9 in the middle of a run, again and again: nothing half-pushed, MLMD readable, reruns work.

`make soak` runs it (`KFX_SOAK=1`; `KFX_SOAK_POINTS`, default 21, sets how many kills). One
penguin run first pushes a model; then each attempt starts `kfx run penguin` in its own
process group and kills the whole group with SIGKILL a random moment after the component
before its target reported, cycling through ExampleGen, StatisticsGen, Transform, Trainer,
Evaluator, ServingCheck and the Pusher. The data targets run with `--no-cache`; the others
share a training budget per round, so after a Trainer is killed the next attempt trains the
same thing again and must resume from the killed fit's backup. After every kill: each
numbered version in the serving folder is a whole SavedModel (the same files as the first
push, a parseable saved_model.pb), `kfx runs` reads MLMD, and the task's lock is free. Last,
a plain run completes, taking what finished before from the cache.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.home import Home

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not os.environ.get("KFX_SOAK"), reason="a soak test: make soak runs it"),
]
KFX = str(Path(sys.executable).with_name("kfx"))
STEPS = "60"
ORDER = (  # the order the components of a penguin run finish in
    "CsvExampleGen",
    "ImportSchemaGen",
    "StatisticsGen",
    "ExampleValidator",
    "DriftCheck",
    "AnomalyGate",
    "Transform",
    "Trainer",
    "baseline_model_resolver",
    "Evaluator",
    "ModelGate",
    "ServingCheck",
    "Pusher",
    "Report",
)
DATA = ("CsvExampleGen", "StatisticsGen", "Transform")  # killed with --no-cache
TARGETS = (
    "CsvExampleGen",
    "StatisticsGen",
    "Transform",
    "Trainer",
    "Evaluator",
    "ServingCheck",
    "Pusher",
)


def _kfx(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([KFX, "--home", str(home), *args], capture_output=True, text=True)


def _kill_during(home: Path, target: str, delay: float, args: list[str]) -> str:
    """Starts a run, kills its process group `delay` s after `target`'s predecessor finished."""
    import time

    before = ORDER[ORDER.index(target) - 1] if target != ORDER[0] else None
    process = subprocess.Popen(
        [KFX, "--home", str(home), "run", "penguin", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stderr:
        words = line.split()
        seen.append(words[0] if words else "")
        started = before is None and "local runner" in line
        if started or (words and words[0] == before):
            time.sleep(delay)
            os.killpg(process.pid, signal.SIGKILL)
            break
    process.wait()
    return " ".join(seen[-2:])


def _whole_versions(serving: Path, files: set[str]) -> None:
    from tensorflow.core.protobuf import saved_model_pb2

    for folder in serving.iterdir():
        if not folder.name.isdigit():
            continue
        found = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
        assert found == files, f"{folder}: a partial version ({sorted(files - found)} missing)"
        saved_model_pb2.SavedModel().ParseFromString((folder / "saved_model.pb").read_bytes())


def test_kill_9_anywhere_leaves_no_partial_push_and_the_next_run_completes(tmp_path):
    home = tmp_path / "home"
    first = _kfx(home, "run", "penguin", "--train-steps", STEPS, "--json")
    assert first.returncode == 0, first.stderr
    pushed = Path(json.loads(first.stdout.splitlines()[-1])["pushed_model"])
    files = {str(p.relative_to(pushed)) for p in pushed.rglob("*") if p.is_file()}
    serving = pushed.parent
    rng = random.Random(int(os.environ.get("KFX_SOAK_SEED", "0")))
    table = ["| kill | target | seconds after its predecessor | last lines before the kill |"]
    table.append("|---|---|---|---|")
    points = int(os.environ.get("KFX_SOAK_POINTS", "21"))
    for attempt in range(points):
        target = TARGETS[attempt % len(TARGETS)]
        delay = rng.uniform(0.0, 2.0 if target in ("Pusher", "ServingCheck") else 6.0)
        budget = str(1000 + attempt // len(TARGETS))  # ~10 epochs: a kill lands mid-fit
        args = (
            ["--no-cache", "--train-steps", STEPS] if target in DATA else ["--train-steps", budget]
        )
        where = _kill_during(home, target, delay, args)
        print(f"kill {attempt + 1}: {delay:.2f} s into {target} (last lines: {where})")
        table.append(f"| {attempt + 1} | {target} | {delay:.2f} | {where} |")
        _whole_versions(serving, files)
        runs = _kfx(home, "runs", "penguin", "--json")
        assert runs.returncode == 0, runs.stderr
        with Home(home).lock("penguin"):  # the kernel released the killed run's lock
            pass
    final = _kfx(home, "run", "penguin", "--train-steps", STEPS, "--json")
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout.splitlines()[-1])
    cached = {node for node, state in summary["states"].items() if state == "cached"}
    assert {"CsvExampleGen", "StatisticsGen", "Transform"} <= cached, summary["states"]
    _whole_versions(serving, files)
    logs = [p.read_text() for p in (home / "logs").glob("penguin-*.log")]
    resumed = [line for text in logs for line in text.splitlines() if "resume: the fit" in line]
    print("\n".join(resumed))
    if points >= 2 * len(TARGETS):  # two Trainer kills: at least one lands mid-fit
        assert resumed, "no Trainer resumed from the backup of a killed fit"
    if os.environ.get("KFX_SOAK_OUT"):
        _write(Path(os.environ["KFX_SOAK_OUT"]), table, resumed, len(set(serving.iterdir())))


def _write(out: Path, table: list[str], resumed: list[str], versions: int) -> None:
    """The soak's section of BENCHMARKS.md: every kill, and what held after them."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    from report import write_section

    begin, end = "<!-- bench:soak:begin -->", "<!-- bench:soak:end -->"
    tails = [line.split("resume: ", 1)[1] for line in resumed]
    section = "\n".join(
        [
            begin,
            "## Crash safety (`make soak`)",
            "",
            f"`tests/soak/test_crash_safety.py`: {len(table) - 2} SIGKILLs of `kfx run penguin`"
            " (the whole process group). After every one: each pushed version whole, `kfx runs`"
            f" reading MLMD, the lock free; then a run completed from the cache. {versions} "
            f"versions in the push folder at the end; Trainer attempts that resumed a killed "
            f"fit: {len(resumed)}.",
            "",
            *table,
            "",
            *[f"- resume: {t}" for t in tails],
            end,
        ]
    )
    write_section(out, begin, end, section + "\n")
