"""Inspecting runs: the Report node, `kfx runs`, `kfx report` in a real browser, TensorBoard.

Two penguin runs in one home (the second retrains against the first as its baseline); the
page is rendered by headless Chromium from a loopback server with every other host resolved
to nothing, and its NetLog is checked for requests the page made elsewhere. With
$KFX_SCREENSHOTS=DIR the screenshots are also kept there (the README's come from here).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from components.reporting import sources
from pipelines import board, metadata
from pipelines.home import Home
from tests.e2e import browser
from tests.e2e.helpers import kfx

pytestmark = pytest.mark.e2e

KFX = str(Path(sys.executable).with_name("kfx"))
SECTIONS = ("gate", "evaluation", "curves", "pictures", "data", "sources")
needs_chromium = pytest.mark.skipif(browser.CHROMIUM is None, reason=browser.MISSING)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """(home, first run's summary, second run's summary)."""
    home = tmp_path_factory.mktemp("kfx_home")
    first = kfx(home, "run", "penguin", "--train-steps", "250", "--json")
    assert first.code == 0, first.err
    second = kfx(home, "run", "penguin", "--train-steps", "100", "--threshold", "0", "--json")
    assert second.code == 0, second.err
    return home, first.json, second.json


def test_every_run_ends_with_a_report_artifact(runs):
    home, first, second = runs
    assert first["states"]["Report"] == second["states"]["Report"] == "complete"
    outputs = metadata.run_artifacts(Home.resolve(home), "penguin", first["run_id"])
    [artifact] = outputs["Report"]["report"]
    assert artifact.custom_properties["display_name"].string_value == "kfx report"
    assert artifact.custom_properties["complete"].int_value == 1
    page = Path(artifact.uri).read_text()
    assert 'id="verdict">BLESSED' in page and "confusion_matrix" in page


def test_runs_is_a_table_newest_first(runs):
    home, first, second = runs
    out = kfx(home, "runs", "penguin").out
    lines = out.splitlines()
    header = next(line for line in lines if "run id" in line)
    for column in ("start", "duration", "span", "components", "metric", "Δ baseline", "naive"):
        assert column in header
    order = [line for line in lines if first["run_id"] in line or second["run_id"] in line]
    assert second["run_id"] in order[0] and first["run_id"] in order[1]
    delta = second["gate"]["value"] - second["gate"]["baseline"]
    ran = len(first["components"])  # every component of the first run executed
    assert f"{delta:+.4f}" in order[0] and f"{ran} ran" in order[1]
    assert json.loads(kfx(home, "runs", "penguin", "--json").out)[0]["run_id"] == first["run_id"]


def test_the_trainer_logged_curves_rate_graph_and_confusion_matrix(runs):
    home, first, _ = runs
    found = metadata.model_runs(Home.resolve(home), _spec())
    logs = sources.events(next(path for run, path in found if run.run_id == first["run_id"]))
    assert {"train", "validation"} <= set(logs.scalars["epoch_loss"])
    assert "epoch_lr" in logs.scalars and "epoch_accuracy" in logs.scalars
    assert logs.graph
    assert [(run, tag) for run, tag, _ in logs.images] == [("validation", "confusion_matrix")]


def _spec():
    from pipelines import tasks

    return tasks.builtin()["penguin"]


def test_report_of_a_run_that_does_not_exist(runs, tmp_path):
    home, first, _ = runs
    result = kfx(
        home, "report", "penguin", "--run", "2001-01-01T00:00:00", "-o", str(tmp_path / "r")
    )
    assert result.code == 2
    assert "no run '2001-01-01T00:00:00'" in result.err and first["run_id"] in result.err


@needs_chromium
def test_the_report_in_a_browser_is_complete_and_requests_nothing(runs, tmp_path):
    home, _, second = runs  # the second run has a baseline: every part of the gate is shown
    site = tmp_path / "site"
    page = str(site / "report.html")
    result = kfx(home, "report", "penguin", "--run", second["run_id"], "-o", page)
    assert result.code == 0, result.err
    with browser.serve(site) as (base, served):
        dom, elsewhere = browser.dom(f"{base}/report.html", tmp_path / "dom")
        shot = browser.screenshot(
            f"{base}/report.html", tmp_path / "shot", tmp_path / "report.png", size=(1100, 2300)
        )
    assert elsewhere == [], elsewhere
    assert [p for p in served if not p.startswith("/favicon")] == ["/report.html"] * 2
    for section in SECTIONS:
        assert f'<section id="{section}">' in dom
    verdict = "BLESSED" if second["blessed"] else "NOT BLESSED"
    assert re.search(rf'id="verdict"[^>]*>{verdict}<', dom)
    assert "the blessed baseline scored" in dom and "threshold: accuracy must be at least 0" in dom
    assert dom.count('src="data:image/png;base64,') >= 2  # learning curves, confusion matrix
    assert not re.findall(r"""(?:src|href)=["'](?!data:)""", dom)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first stdout line of `process` within `timeout` seconds ('' if none came)."""
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def test_tensorboard_serves_both_runs_side_by_side(runs, tmp_path):
    home, first, second = runs
    port = board.free_port()
    process = subprocess.Popen(
        [KFX, "--home", str(home), "tensorboard", "penguin", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = _first_line(process, board.READY_TIMEOUT_S + 30)
        url = f"http://127.0.0.1:{port}/"
        assert url in line and "2 runs" in line, (line, process.stderr.read())
        with urllib.request.urlopen(f"{url}data/runs", timeout=10) as response:
            listed = json.loads(response.read())
        names = {board.run_name(r) for r in metadata.runs(Home.resolve(home), "penguin", _spec())}
        assert {f"{name}/train" for name in names} <= set(listed)
        run = next(r for r in listed if r.startswith(first["run_id"].replace(":", ".")))
        query = urllib.parse.urlencode(
            {"run": run.rsplit("/", 1)[0] + "/train", "tag": "epoch_loss"}
        )
        with urllib.request.urlopen(f"{url}data/plugin/scalars/scalars?{query}", timeout=10) as r:
            points = json.loads(r.read())
        assert len(points) >= 2 and all(len(p) == 3 for p in points)  # (wall time, step, value)
        if browser.CHROMIUM and os.environ.get(browser.SCREENSHOTS_ENV):
            browser.screenshot(
                f"{url}#timeseries",
                tmp_path / "tb",
                tmp_path / "tensorboard.png",
                (1200, 800),
                15000,
            )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    assert process.returncode is not None
