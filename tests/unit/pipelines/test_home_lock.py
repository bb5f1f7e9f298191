"""One run per task and home: a second fails fast naming the first's pid, or waits for it.

The holder is a real second process; a holder killed with -9 must leave nothing that blocks.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines import cli
from pipelines.home import Home, HomeBusy

PROJECT = Path(__file__).resolve().parents[3]
HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.home import Home

    with Home(Path(sys.argv[1])).lock(sys.argv[2]):
        print("held", flush=True)
        time.sleep(float(sys.argv[3]))
    """
)


@contextlib.contextmanager
def holder(home: Home, task: str, seconds: float = 60.0):
    """A process that holds `task`'s lock for `seconds` (killed on exit)."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home.root), task, str(seconds)],
        cwd=PROJECT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT)),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_second_run_of_the_task_fails_fast_naming_the_first(tmp_path):
    home = Home(tmp_path / "home")
    with holder(home, "penguin") as first:
        err = io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["--home", str(home.root), "run", "penguin", "--train-steps", "1"])
        assert time.monotonic() - started < 30
    assert code == 2
    assert (
        f"`kfx run penguin` is already running in {home.root} (pid {first.pid})" in err.getvalue()
    )
    assert "--wait" in err.getvalue()
    assert not home.data_dir("penguin").exists()  # the data is written under the lock only


def test_a_run_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    home = Home(tmp_path / "home")
    with holder(home, "penguin") as first:
        with pytest.raises(HomeBusy), home.lock("penguin"):
            pass
        first.send_signal(signal.SIGKILL)
        first.wait()
        with home.lock("penguin"):  # the kernel released it with the process
            assert (home.root / "locks" / "penguin.lock").read_text() == str(os.getpid())
    assert (home.root / "locks" / "penguin.lock").read_text() == ""


def test_wait_starts_when_the_first_run_ends(tmp_path):
    home = Home(tmp_path / "home")
    with holder(home, "penguin", seconds=1.5):
        started = time.monotonic()
        with home.lock("penguin", wait=True):
            waited = time.monotonic() - started
    assert waited > 1.0


def test_runs_of_different_tasks_do_not_block_each_other(tmp_path):
    home = Home(tmp_path / "home")
    with holder(home, "penguin"), home.lock("wide_deep"):
        pass
