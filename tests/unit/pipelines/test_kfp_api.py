"""pipelines.kfp_api with the real kfp.Client against the loopback KFP API in tests/fixtures."""

import hashlib
import http.server
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
import yaml

from pipelines import kfp_api
from pipelines.errors import TaskError
from tests.fixtures.kfp_server import API, KfpServer

GPU_PLATFORM = {
    "nodeSelector": {"labels": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """A real two-step KFP v2 pipeline compiled to YAML."""
    from kfp import compiler, dsl

    @dsl.component(base_image="python:3.11-slim")
    def prepare(rows: int) -> int:
        return rows * 2

    @dsl.component(base_image="python:3.11-slim")
    def train(rows: int) -> str:
        return f"trained on {rows} rows"

    @dsl.pipeline(name="two-step", description="prepare, then train")
    def two_step(rows: int = 10):
        train(rows=prepare(rows=rows).output)

    path = tmp_path_factory.mktemp("kfp") / "two_step.yaml"
    compiler.Compiler().compile(two_step, str(path))
    return path


@pytest.fixture(scope="module")
def gpu_package(package):
    """The same pipeline plus a second YAML document: a Kubernetes platform spec for train."""
    spec = yaml.safe_load(package.read_text())
    (executor,) = [name for name in spec["deploymentSpec"]["executors"] if "train" in name]
    platform = {"platforms": {"kubernetes": {"deploymentSpec": {"executors": {}}}}}
    platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"][executor] = GPU_PLATFORM
    path = package.with_name("two_step_gpu.yaml")
    path.write_text(package.read_text() + "---\n" + yaml.safe_dump(platform))
    return path


@pytest.fixture
def server():
    with KfpServer() as srv:
        yield srv


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _index(calls, call, start=0):
    return calls.index(call, start)


def test_submit_creates_pipeline_experiment_and_run(server, package, capsys):
    result = kfp_api.submit(package, server.url, "two-step", run_name="first")

    assert set(result) >= {"pipeline_id", "version_id", "experiment_id", "run_id", "run_url"}
    (upload,) = server.find("POST", f"{API}/pipelines/upload")
    assert upload.query["name"] == "two-step"
    assert upload.files["uploadfile"] == package.read_bytes()
    assert upload.filenames["uploadfile"] == package.name
    (experiment,) = server.find("POST", f"{API}/experiments")
    assert experiment.body["display_name"] == "kfx"
    (run,) = server.find("POST", f"{API}/runs")
    assert run.body["display_name"] == "first"
    assert run.body["experiment_id"] == result["experiment_id"]
    assert run.body["pipeline_version_reference"] == {
        "pipeline_id": result["pipeline_id"],
        "pipeline_version_id": result["version_id"],
    }
    assert "pipeline_spec" not in run.body
    assert server.versions[result["version_id"]]["pipeline_id"] == result["pipeline_id"]
    assert result["run_url"] == f"{server.url}/#/runs/details/{result['run_id']}"
    assert server.unknown == []
    assert capsys.readouterr().out == ""


def test_second_submit_uploads_a_new_version_of_the_same_pipeline(server, package):
    first = kfp_api.submit(package, server.url, "two-step")
    server.clear_requests()
    second = kfp_api.submit(package, server.url, "two-step")

    assert server.find("POST", f"{API}/pipelines/upload") == []
    assert server.find("POST", f"{API}/experiments") == []
    (upload,) = server.find("POST", f"{API}/pipelines/upload_version")
    assert upload.query["pipelineid"] == first["pipeline_id"]
    digest = hashlib.sha256(package.read_bytes()).hexdigest()[:12]
    assert re.fullmatch(rf"{digest}-\d{{8}}-\d{{6}}-\d{{6}}", upload.query["name"])
    assert upload.files["uploadfile"] == package.read_bytes()
    assert second["pipeline_id"] == first["pipeline_id"]
    assert second["experiment_id"] == first["experiment_id"]
    assert second["version_id"] != first["version_id"]
    assert second["version_name"] == upload.query["name"]
    (run,) = server.find("POST", f"{API}/runs")
    assert run.body["pipeline_version_reference"]["pipeline_version_id"] == second["version_id"]
    assert len(server.pipelines) == 1 and len(server.versions) == 2


def test_upload_keeps_the_platform_document(server, gpu_package):
    first = kfp_api.submit(gpu_package, server.url, "two-step-gpu")
    again = kfp_api.schedule(gpu_package, server.url, "two-step-gpu", "nightly", "0 0 3 * * *")

    sent = gpu_package.read_bytes()
    for version_id in (first["version_id"], again["version_id"]):
        assert server.packages[version_id] == sent
    docs = list(yaml.safe_load_all(server.packages[again["version_id"]]))
    assert len(docs) == 2
    assert docs[0]["pipelineInfo"]["name"] == "two-step"
    (executor,) = docs[1]["platforms"]["kubernetes"]["deploymentSpec"]["executors"].values()
    assert executor == GPU_PLATFORM


def test_schedule_twice_replaces_the_recurring_run(server, package):
    first = kfp_api.schedule(package, server.url, "two-step", "nightly", "0 0 3 * * *")
    assert first["replaced"] == []
    server.clear_requests()
    second = kfp_api.schedule(
        package, server.url, "two-step", "nightly", "0  30 4 * * *", max_concurrency=2
    )

    old = first["recurring_run_id"]
    assert second["replaced"] == [old]
    calls = server.calls()
    disable = _index(calls, f"POST {API}/recurringruns/{old}:disable")
    delete = _index(calls, f"DELETE {API}/recurringruns/{old}", disable)
    _index(calls, f"POST {API}/recurringruns", delete)
    (created,) = server.find("POST", f"{API}/recurringruns")
    body = created.body
    assert body["display_name"] == "nightly"
    assert body["trigger"] == {"cron_schedule": {"cron": "0 30 4 * * *"}}
    assert body["max_concurrency"] == 2
    assert body["mode"] == "ENABLE"
    assert body["experiment_id"] == second["experiment_id"] == first["experiment_id"]
    assert body["pipeline_version_reference"] == {
        "pipeline_id": second["pipeline_id"],
        "pipeline_version_id": second["version_id"],
    }
    assert second["version_id"] != first["version_id"]
    assert list(server.recurring_runs) == [second["recurring_run_id"]]


def test_schedule_replaces_only_its_own_name_and_experiment(server, package):
    nightly = kfp_api.schedule(package, server.url, "two-step", "nightly", "0 0 3 * * *")
    weekly = kfp_api.schedule(package, server.url, "two-step", "weekly", "0 0 3 * * 0")
    other = kfp_api.schedule(
        package, server.url, "two-step", "nightly", "0 0 3 * * *", experiment="other"
    )
    again = kfp_api.schedule(package, server.url, "two-step", "nightly", "0 0 5 * * *")

    assert again["replaced"] == [nightly["recurring_run_id"]]
    assert other["experiment_id"] != nightly["experiment_id"]
    assert set(server.recurring_runs) == {
        weekly["recurring_run_id"],
        other["recurring_run_id"],
        again["recurring_run_id"],
    }


def test_list_and_delete_schedules(server, package):
    nightly = kfp_api.schedule(package, server.url, "two-step", "nightly", "0 0 3 * * *")
    other = kfp_api.schedule(
        package, server.url, "two-step", "hourly", "0 0 * * * *", experiment="other"
    )

    listed = kfp_api.list_schedules(server.url)
    assert {s["name"] for s in listed} == {"nightly", "hourly"}
    (row,) = kfp_api.list_schedules(server.url, experiment="kfx")
    assert row == {
        "id": nightly["recurring_run_id"],
        "name": "nightly",
        "cron": "0 0 3 * * *",
        "status": "ENABLED",
        "pipeline_version_id": nightly["version_id"],
        "experiment_id": nightly["experiment_id"],
    }

    server.clear_requests()
    assert kfp_api.delete_schedule(server.url, "hourly") == [other["recurring_run_id"]]
    calls = server.calls()
    disable = _index(calls, f"POST {API}/recurringruns/{other['recurring_run_id']}:disable")
    _index(calls, f"DELETE {API}/recurringruns/{other['recurring_run_id']}", disable)
    assert [s["name"] for s in kfp_api.list_schedules(server.url)] == ["nightly"]
    with pytest.raises(TaskError, match="no schedule named 'hourly'"):
        kfp_api.delete_schedule(server.url, "hourly")
    with pytest.raises(TaskError, match="no schedule named 'nightly' in experiment 'other'"):
        kfp_api.delete_schedule(server.url, "nightly", experiment="other")


def test_list_pages_through_many_recurring_runs(server, package, monkeypatch):
    for i in range(3):
        kfp_api.schedule(package, server.url, "two-step", f"s{i}", "0 0 3 * * *")
    monkeypatch.setattr(kfp_api, "PAGE_SIZE", 2)
    names = [s["name"] for s in kfp_api.list_schedules(server.url)]
    assert sorted(names) == ["s0", "s1", "s2"]
    pages = server.find("GET", f"{API}/recurringruns")
    assert [p.query["page_token"] for p in pages[-2:]] == ["", "2"]


def test_list_unknown_experiment(server):
    with pytest.raises(TaskError, match="no experiment named 'nope'"):
        kfp_api.list_schedules(server.url, experiment="nope")


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 3 * * *", r'has 5 fields; KFP needs 6 .*did you mean "0 0 3 \* \* \*"'),
        ("", "has 0 fields"),
        ("0 0 0 3 * * *", "has 7 fields"),
    ],
)
def test_bad_cron_is_rejected_before_any_request(server, package, cron, message):
    with pytest.raises(TaskError, match=message):
        kfp_api.schedule(package, server.url, "two-step", "nightly", cron)
    assert server.requests == []


@pytest.mark.parametrize("value", [0, 11])
def test_max_concurrency_out_of_range(server, package, value):
    with pytest.raises(TaskError, match="max_concurrency"):
        kfp_api.schedule(package, server.url, "p", "s", "0 0 3 * * *", max_concurrency=value)
    assert server.requests == []


def test_unreachable_host_fails_fast(package):
    host = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    with pytest.raises(TaskError, match="kubectl port-forward -n kubeflow") as err:
        kfp_api.submit(package, host, "two-step")
    assert time.monotonic() - start < 5
    assert host in str(err.value)
    with pytest.raises(TaskError, match="cannot reach"):
        kfp_api.list_schedules(host)


def test_silent_host_times_out(package, monkeypatch):
    monkeypatch.setattr(kfp_api, "READ_TIMEOUT_S", 0.3)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.monotonic()
        with pytest.raises(TaskError, match="cannot reach .*timed out"):
            kfp_api.submit(package, f"http://127.0.0.1:{silent.getsockname()[1]}", "two-step")
    assert time.monotonic() - start < 3


def test_host_that_is_not_kfp(tmp_path, package):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        with pytest.raises(TaskError, match="answered HTTP 404; is the host a KFP >= 2.0"):
            kfp_api.submit(package, f"http://127.0.0.1:{httpd.server_port}", "two-step")
    finally:
        httpd.shutdown()
        thread.join(5)
        httpd.server_close()


def test_server_error_names_the_step(server, package):
    server.fail("POST", f"{API}/runs", 400, "pipeline spec is invalid")
    with pytest.raises(TaskError) as err:
        kfp_api.submit(package, server.url, "two-step", run_name="r1")
    assert "starting run 'r1'" in str(err.value)
    assert "HTTP 400" in str(err.value) and "pipeline spec is invalid" in str(err.value)


@pytest.mark.parametrize("host", ["localhost:8080", ""])
def test_host_needs_a_scheme(package, host):
    with pytest.raises(TaskError, match="http://localhost:8080"):
        kfp_api.submit(package, host, "two-step")


def test_package_must_exist(tmp_path, server):
    with pytest.raises(TaskError, match="no such file"):
        kfp_api.submit(tmp_path / "missing.yaml", server.url, "two-step")
    (tmp_path / "spec.txt").write_text("x")
    with pytest.raises(TaskError, match="not a KFP package"):
        kfp_api.submit(tmp_path / "spec.txt", server.url, "two-step")
    assert server.requests == []


def test_server_answers_unknown_paths_404_and_records_them(server):
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as err:
        direct.open(f"{server.url}{API}/nothing/here", timeout=5)
    assert err.value.code == 404
    assert json.loads(err.value.read())["code"] == 5
    assert server.unknown == [f"GET {API}/nothing/here"]
