"""Scheduled retraining as cron would run it, after a bad span was dropped in by hand.

Nothing here cleans up after kfx: the bad span must leave the data folder by itself, and the
command `kfx schedule --local` installs must be one that runs.
"""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx

pytestmark = pytest.mark.e2e


def _command(line: str) -> str:
    """The shell command of a crontab line (after the 5 time fields, before the marker)."""
    return line.split(" ", 5)[5].rsplit(" # kfx:", 1)[0]


def test_a_bad_span_is_quarantined_and_the_scheduled_command_retrains_on_the_last_good(tmp_path):
    home = Home.resolve(tmp_path / "home")
    first = kfx(home.root, "run", "penguin", "--train-steps", "40", "--json")
    assert first.code == 0 and first.json["blessed"] is True, first.err

    # A span written straight into the data folder, as a sync job or a person would.
    rows = pd.read_csv(home.data_dir("penguin") / "span-1" / "data.csv")
    rows.loc[:10, "island"] = "Atlantis"
    (home.data_dir("penguin") / "span-2").mkdir()
    rows.to_csv(home.data_dir("penguin") / "span-2" / "data.csv", index=False)

    bad = kfx(home.root, "run", "penguin", "--train-steps", "40", "--json")
    assert bad.code == 3 and "Atlantis" in bad.err, bad.err
    (rejected,) = (home.data_dir("penguin") / "rejected").iterdir()
    assert rejected.name.startswith("span-2-") and f"rejected data kept in {rejected}" in bad.err
    why = (rejected / "REJECTED.txt").read_text()
    assert bad.json["run_id"] in why and "island" in why
    assert sorted(p.name for p in home.data_dir("penguin").glob("span-*")) == ["span-1"]

    line = kfx(home.root, "schedule", "penguin", "--local", "--print", "--train-steps", "40")
    assert line.code == 0, line.err
    command = _command(line.out.strip().splitlines()[-1])
    assert "--warm-start" in command and "--train-steps 40" in command
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    log = home.logs_dir() / "schedule-penguin.log"
    summary = json.loads(log.read_text().strip().splitlines()[-1])
    assert summary["task"] == "penguin" and summary["span"] == 1
    assert summary["states"]["warm_start_model_resolver"] == "complete"
    assert summary["gate"]["baseline"] == first.json["value"]
