"""Scheduled retraining on this machine: a user crontab entry per (home, task).

Each entry runs the `kfx run TASK ...` a user could type (`api.scheduled_run`: with
`--warm-start` where the task can take it): ExampleGen picks the newest span under
HOME/data/TASK, the Trainer starts from the latest blessed model, and the gate compares the
candidate with it. Output goes to HOME/logs/schedule-TASK.log.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from pipelines.errors import TaskError
from pipelines.home import Home

_EVERY = re.compile(r"^(\d+)([hdw])$")


def cron_for(every: str) -> str:
    """`--every 6h|1d|1w` as a 5-field cron expression (days at 03:00, weeks on Sunday)."""
    match = _EVERY.match(every.strip())
    if not match or int(match.group(1)) == 0:
        raise TaskError(f"--every {every!r}: use Nh (N dividing 24), 1d or 1w, e.g. --every 1d")
    count, unit = int(match.group(1)), match.group(2)
    if unit == "h" and 24 % count == 0:
        return "0 * * * *" if count == 1 else f"0 */{count} * * *"
    if unit == "d" and count == 1:
        return "0 3 * * *"
    if unit == "w" and count == 1:
        return "0 3 * * 0"
    raise TaskError(f"--every {every!r}: use Nh (N dividing 24), 1d or 1w, e.g. --every 1d")


def marker(home: Home, task: str) -> str:
    """The comment that identifies this task's entry (one per home and task)."""
    return f"# kfx:{home.root}:{task}"


def command(home: Home, run_args: list[str]) -> str:
    """The shell command of an entry: `kfx --home HOME RUN_ARGS...` (quoted)."""
    kfx = Path(sys.executable).with_name("kfx")
    words = [str(kfx), "--home", str(home.root), *run_args]
    return " ".join(shlex.quote(w) for w in words)


def entry(home: Home, task: str, every: str, run_args: list[str]) -> str:
    """The crontab line for `kfx schedule TASK --local --every EVERY` running `run_args`."""
    log = home.logs_dir() / f"schedule-{task}.log"
    line = f"{command(home, run_args)} >> {shlex.quote(str(log))} 2>&1"
    return f"{cron_for(every)} {line} {marker(home, task)}"


def _crontab() -> str:
    path = shutil.which("crontab")
    if path is None:
        raise TaskError(
            "no `crontab` command on this machine; install cron (apt-get install cron) or add "
            "the line from `kfx schedule TASK --local --every 1d --print` to your scheduler"
        )
    return path


def _read() -> list[str]:
    done = subprocess.run([_crontab(), "-l"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines() if done.returncode == 0 else []  # 1: no crontab yet


def _write(lines: list[str]) -> None:
    text = "\n".join(lines) + ("\n" if lines else "")
    done = subprocess.run([_crontab(), "-"], input=text, capture_output=True, text=True)
    if done.returncode != 0:
        raise TaskError(f"crontab refused the new table: {done.stderr.strip()}")


def install(home: Home, task: str, every: str, run_args: list[str]) -> str:
    """Adds or replaces the task's entry in the user's crontab; returns the line."""
    line = entry(home, task, every, run_args)
    home.logs_dir().mkdir(parents=True, exist_ok=True)
    kept = [existing for existing in _read() if not existing.endswith(marker(home, task))]
    _write(kept + [line])
    return line


def remove(home: Home, task: str) -> bool:
    """Removes the task's entry; False when there was none."""
    lines = _read()
    kept = [line for line in lines if not line.endswith(marker(home, task))]
    if len(kept) != len(lines):
        _write(kept)
    return len(kept) != len(lines)


def entries(home: Home) -> list[str]:
    """This home's kfx entries in the user's crontab."""
    return [line for line in _read() if f"# kfx:{home.root}:" in line]
