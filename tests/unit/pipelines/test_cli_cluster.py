"""`kfx submit` and `kfx schedule` end to end through the CLI: compile, then the real kfp.Client
against the loopback KFP API of tests/fixtures/kfp_server.py; `--local` against the real crontab.

The crontab tests change the user's crontab; they back it up first and put it back afterwards
(even when a test fails), and are skipped where there is no `crontab` command.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipelines import schedule
from pipelines.errors import TaskError
from pipelines.home import Home
from tests.e2e.helpers import cli_state, kfx
from tests.fixtures.kfp_server import API, KfpServer

IMAGE = "registry.example.com/kfx/components:test-1"
CRON = "0 0 3 * * *"
SCHEDULE_NAME = "kfx-penguin-retrain"
CRONTAB = shutil.which("crontab")
needs_crontab = pytest.mark.skipif(
    CRONTAB is None,
    reason="no `crontab` command on this machine (CI installs cron); "
    "the local install/remove tests need a real user crontab",
)


@pytest.fixture(autouse=True)
def _cli_state(monkeypatch):
    """`kfx` changes global logging and warning filters (console.quiet); put them back."""
    monkeypatch.delenv("KFX_IMAGE", raising=False)
    monkeypatch.delenv("KFX_PIPELINE_ROOT", raising=False)
    monkeypatch.delenv("KFX_HOME", raising=False)
    with cli_state():
        yield


@pytest.fixture
def server():
    with KfpServer() as srv:
        yield srv


@pytest.fixture
def home(tmp_path) -> Path:
    return Home.resolve(tmp_path / "home").root


def _index(calls: list[str], call: str, start: int = 0) -> int:
    return calls.index(call, start)


# ---- kfx submit -------------------------------------------------------------------------------


def test_submit_uploads_the_compiled_package_and_starts_a_run(server, home):
    result = kfx(
        home, "submit", "penguin", "--host", server.url, "--image", IMAGE, "--experiment", "exp1"
    )

    assert result.code == 0, result.err
    summary = result.json
    assert summary["run_id"] in server.runs
    assert summary["run_url"] == f"{server.url}/#/runs/details/{summary['run_id']}"
    compiled = home / "compiled" / "penguin.yaml"
    (upload,) = server.find("POST", f"{API}/pipelines/upload")
    assert upload.files["uploadfile"] == compiled.read_bytes()
    assert upload.filenames["uploadfile"] == "penguin.yaml"
    assert upload.query["name"] == "kfx-penguin"

    documents = list(yaml.safe_load_all(upload.files["uploadfile"]))
    assert len(documents) == 2
    pipeline_spec, platform = documents
    trainer_label = pipeline_spec["components"]["Trainer"]["executorLabel"]
    assert pipeline_spec["deploymentSpec"]["executors"][trainer_label]["container"]["image"] == (
        IMAGE
    )
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    assert executors[trainer_label]["nodeSelector"] == {
        "labels": {"cloud.google.com/gke-nodepool": "cpu-pool"}
    }

    (pipeline,) = server.pipelines.values()
    assert pipeline["display_name"] == "kfx-penguin"
    assert summary["pipeline_id"] == pipeline["pipeline_id"]
    (experiment,) = server.experiments.values()
    assert experiment["display_name"] == "exp1"
    run = server.runs[summary["run_id"]]
    assert run["experiment_id"] == experiment["experiment_id"] == summary["experiment_id"]
    assert run["pipeline_version_reference"] == {
        "pipeline_id": pipeline["pipeline_id"],
        "pipeline_version_id": summary["version_id"],
    }
    assert "pipeline_spec" not in run
    assert server.versions[summary["version_id"]]["pipeline_id"] == pipeline["pipeline_id"]
    assert server.packages[summary["version_id"]] == compiled.read_bytes()
    assert server.unknown == []


def test_submit_with_gpu_sends_the_trainer_platform_config(server, home):
    result = kfx(
        home,
        "submit",
        "penguin",
        "--host",
        server.url,
        "--image",
        IMAGE,
        "--accelerator",
        "nvidia-tesla-t4:2",
        "--run-name",
        "gpu run",
    )

    assert result.code == 0, result.err
    package = server.packages[result.json["version_id"]]
    assert package == (home / "compiled" / "penguin.yaml").read_bytes()
    pipeline_spec, platform = yaml.safe_load_all(package)
    label = pipeline_spec["components"]["Trainer"]["executorLabel"]
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"][label]
    assert config["nodeSelector"]["labels"] == {
        "cloud.google.com/gke-accelerator": "nvidia-tesla-t4"
    }
    assert config["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    (run,) = server.runs.values()
    assert run["display_name"] == "gpu run"


def test_submit_needs_an_image(server, home):
    result = kfx(home, "submit", "penguin", "--host", server.url)
    assert result.code == 2
    assert "--image" in result.err
    assert server.requests == []


def test_submit_unreachable_host_is_a_usage_error(home):
    with KfpServer() as stopped:
        url = stopped.url
    result = kfx(home, "submit", "penguin", "--host", url, "--image", IMAGE)
    assert result.code == 2
    assert "cannot reach Kubeflow Pipelines" in result.err


# ---- kfx schedule (KFP) -----------------------------------------------------------------------


def _schedule(home: Path, server: KfpServer, *extra: str):
    return kfx(
        home, "schedule", "penguin", "--cron", CRON, "--host", server.url, "--image", IMAGE, *extra
    )


def test_schedule_twice_replaces_the_recurring_run_then_list_and_delete(server, home):
    first = _schedule(home, server)
    assert first.code == 0, first.err
    old = first.json["recurring_run_id"]
    assert first.json["replaced"] == []
    server.clear_requests()

    second = _schedule(home, server)
    assert second.code == 0, second.err
    new = second.json["recurring_run_id"]
    assert second.json["replaced"] == [old]
    calls = server.calls()
    disable = _index(calls, f"POST {API}/recurringruns/{old}:disable")
    delete = _index(calls, f"DELETE {API}/recurringruns/{old}", disable + 1)
    create = _index(calls, f"POST {API}/recurringruns", delete + 1)
    assert _index(calls, f"POST {API}/pipelines/upload_version") < disable < delete < create
    (created,) = server.find("POST", f"{API}/recurringruns")
    assert created.body["display_name"] == SCHEDULE_NAME
    assert created.body["trigger"] == {"cron_schedule": {"cron": CRON}}
    assert created.body["pipeline_version_reference"] == {
        "pipeline_id": second.json["pipeline_id"],
        "pipeline_version_id": second.json["version_id"],
    }
    assert list(server.recurring_runs) == [new]
    assert (
        server.packages[second.json["version_id"]]
        == (home / "compiled" / "penguin.yaml").read_bytes()
    )

    listed = kfx(home, "schedule", "--list", "--host", server.url)
    assert listed.code == 0, listed.err
    (row,) = json.loads(listed.out.strip().splitlines()[-1])
    assert (row["id"], row["name"], row["cron"]) == (new, SCHEDULE_NAME, CRON)
    assert row["status"] == "ENABLED"
    assert row["pipeline_version_id"] == second.json["version_id"]

    server.clear_requests()
    deleted = kfx(home, "schedule", "--delete", SCHEDULE_NAME, "--host", server.url)
    assert deleted.code == 0, deleted.err
    assert json.loads(deleted.out.strip().splitlines()[-1]) == [new]
    calls = server.calls()
    _index(
        calls,
        f"DELETE {API}/recurringruns/{new}",
        _index(calls, f"POST {API}/recurringruns/{new}:disable"),
    )
    assert server.recurring_runs == {}
    listed = kfx(home, "schedule", "--list", "--host", server.url)
    assert json.loads(listed.out.strip().splitlines()[-1]) == []

    again = kfx(home, "schedule", "--delete", SCHEDULE_NAME, "--host", server.url)
    assert again.code == 2
    assert f"no schedule named {SCHEDULE_NAME!r}" in again.err


def test_schedule_with_a_custom_name_and_experiment(server, home):
    result = _schedule(home, server, "--name", "nightly", "--experiment", "exp2")
    assert result.code == 0, result.err
    (run,) = server.recurring_runs.values()
    assert run["display_name"] == "nightly"
    assert server.experiments[run["experiment_id"]]["display_name"] == "exp2"
    listed = kfx(home, "schedule", "--list", "--host", server.url, "--experiment", "exp2")
    assert [r["name"] for r in json.loads(listed.out.strip().splitlines()[-1])] == ["nightly"]


def test_schedule_without_host_or_local(home):
    result = kfx(home, "schedule", "penguin", "--cron", CRON, "--image", IMAGE)
    assert result.code == 2
    assert "--host" in result.err and "--local" in result.err
    assert not (home / "compiled").exists()


def test_schedule_without_cron(server, home):
    result = kfx(home, "schedule", "penguin", "--host", server.url, "--image", IMAGE)
    assert result.code == 2
    assert "--cron" in result.err
    assert server.requests == []


def test_schedule_five_field_cron_is_refused_before_any_request(server, home):
    bad = kfx(
        home, "schedule", "penguin", "--cron", "0 3 * * *", "--host", server.url, "--image", IMAGE
    )
    assert bad.code == 2
    assert "did you mean" in bad.err
    assert server.requests == []


# ---- kfx schedule --local ---------------------------------------------------------------------


@contextlib.contextmanager
def _crontab_restored():
    """Back up the user crontab; put it back (or remove it) afterwards, whatever happens."""
    before = subprocess.run([CRONTAB, "-l"], capture_output=True, text=True, check=False)
    try:
        yield before.stdout if before.returncode == 0 else None
    finally:
        if before.returncode == 0:
            subprocess.run([CRONTAB, "-"], input=before.stdout, text=True, check=True)
        else:
            subprocess.run([CRONTAB, "-r"], capture_output=True, check=False)
        after = subprocess.run([CRONTAB, "-l"], capture_output=True, text=True, check=False)
        assert after.stdout == (before.stdout if before.returncode == 0 else "")


def _crontab_lines() -> list[str]:
    done = subprocess.run([CRONTAB, "-l"], capture_output=True, text=True, check=False)
    return done.stdout.splitlines() if done.returncode == 0 else []


def test_local_print(home):
    before = _crontab_lines() if CRONTAB else None
    result = kfx(home, "schedule", "penguin", "--local", "--every", "6h", "--print")
    assert result.code == 0, result.err
    line = result.out.strip().splitlines()[-1]
    assert line.startswith("0 */6 * * * ")
    assert f"--home {home} run penguin --warm-start" in line
    assert line.endswith(f"# kfx:{home}:penguin")
    assert f">> {home / 'logs' / 'schedule-penguin.log'} 2>&1" in line
    if CRONTAB:
        assert _crontab_lines() == before  # --print installs nothing


def test_local_schedule_carries_the_run_options(home):
    result = kfx(
        home, "schedule", "penguin", "--local", "--print", "--train-steps", "20", "--set", "units=8"
    )
    assert result.code == 0, result.err
    assert "run penguin --train-steps 20 --warm-start --set units=8 --json" in result.out


@pytest.mark.parametrize("task", ["transfer_digits", "distill"])
def test_local_schedule_of_a_task_that_cannot_warm_start_omits_it(home, task):
    result = kfx(home, "schedule", task, "--local", "--print")
    assert result.code == 0, result.err
    assert f"run {task} --json" in result.out and "--warm-start" not in result.out


@pytest.mark.parametrize(
    ("task", "flags", "message"),
    [
        (
            "transfer_digits",
            ["--warm-start"],
            "--warm-start: transfer_digits starts from the pushed model",
        ),
        ("cartpole_dqn", ["--tune"], "--tune applies to supervised tasks"),
        ("seq2seq", ["--optimize"], "--optimize: seq2seq decodes step by step"),
        ("penguin", ["--set", "units=abc"], "units"),
    ],
)
def test_local_schedule_refuses_what_the_task_cannot_run(home, task, flags, message):
    result = kfx(home, "schedule", task, "--local", "--print", *flags)
    assert result.code == 2 and message in result.err


@pytest.mark.parametrize("every", ["5h", "3d", "0h", "2w", "daily"])
def test_local_bad_every(home, every):
    result = kfx(home, "schedule", "penguin", "--local", "--every", every, "--print")
    assert result.code == 2
    assert f"--every {every!r}" in result.err


def test_local_needs_a_task(home):
    result = kfx(home, "schedule", "--local", "--print")
    assert result.code == 2
    assert "name a TASK" in result.err


def test_local_unknown_task(home):
    result = kfx(home, "schedule", "unicorn", "--local", "--print")
    assert result.code == 2
    assert "unknown task 'unicorn'" in result.err


@pytest.mark.parametrize(
    ("every", "cron"),
    [
        ("1h", "0 * * * *"),
        ("2h", "0 */2 * * *"),
        ("6h", "0 */6 * * *"),
        ("12h", "0 */12 * * *"),
        (" 1d ", "0 3 * * *"),
        ("1d", "0 3 * * *"),
        ("1w", "0 3 * * 0"),
    ],
)
def test_cron_for(every, cron):
    assert schedule.cron_for(every) == cron


@pytest.mark.parametrize("every", ["0h", "3d", "5h", "7h", "2d", "2w", "0d", "", "h", "1m", "1.5h"])
def test_cron_for_rejects(every):
    with pytest.raises(TaskError, match="--every"):
        schedule.cron_for(every)


@needs_crontab
def test_local_install_replace_list_and_remove(home):
    marker = f"# kfx:{home}:penguin"
    other_home = home.parent / "other-home"
    foreign = "17 4 * * * /usr/bin/true # someone else's job"
    with _crontab_restored() as backup:
        kept = (backup or "").splitlines() + [foreign]
        subprocess.run([CRONTAB, "-"], input="\n".join(kept) + "\n", text=True, check=True)
        other = kfx(other_home, "schedule", "penguin", "--local", "--every", "1d")
        assert other.code == 0, other.err

        first = kfx(home, "schedule", "penguin", "--local", "--every", "6h")
        assert first.code == 0, first.err
        line = first.out.strip().splitlines()[-1]
        assert line.startswith("0 */6 * * * ") and line.endswith(marker)
        lines = _crontab_lines()
        assert lines.count(line) == 1
        assert [x for x in lines if x.endswith(marker)] == [line]
        assert (home / "logs").is_dir()

        second = kfx(home, "schedule", "penguin", "--local", "--every", "12h")
        assert second.code == 0, second.err
        replaced = second.out.strip().splitlines()[-1]
        assert replaced.startswith("0 */12 * * * ")
        lines = _crontab_lines()
        assert [x for x in lines if x.endswith(marker)] == [replaced]
        assert line not in lines
        assert lines[: len(kept)] == kept  # other entries kept, in order
        assert any(x.endswith(f"# kfx:{Home.resolve(other_home).root}:penguin") for x in lines)

        listed = kfx(home, "schedule", "--local", "--list")
        assert listed.code == 0, listed.err
        assert listed.out.strip().splitlines() == [replaced]

        removed = kfx(home, "schedule", "--local", "--delete", "penguin")
        assert removed.code == 0, removed.err
        lines = _crontab_lines()
        assert not any(x.endswith(marker) for x in lines)
        assert lines[: len(kept)] == kept
        assert any(x.endswith(f"# kfx:{Home.resolve(other_home).root}:penguin") for x in lines)

        again = kfx(home, "schedule", "--local", "--delete", "penguin")
        assert again.code == 2
        assert "no local schedule for 'penguin'" in again.err


@needs_crontab
def test_local_install_into_an_empty_crontab_and_remove_to_empty(home):
    with _crontab_restored():
        subprocess.run([CRONTAB, "-r"], capture_output=True, check=False)
        assert _crontab_lines() == []
        result = kfx(home, "schedule", "penguin", "--local", "--every", "1w")
        assert result.code == 0, result.err
        assert _crontab_lines() == [result.out.strip().splitlines()[-1]]
        assert _crontab_lines()[0].startswith("0 3 * * 0 ")
        assert kfx(home, "schedule", "--local", "--delete", "penguin").code == 0
        assert _crontab_lines() == []
