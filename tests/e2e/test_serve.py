"""`kfx serve` over HTTP on loopback: TF Serving's REST API on real pushed models, hot swap.

A `kfx serve` process serves penguin's pushed model; its answers match `kfx predict` on the
same test-split rows; a better model pushed while a client keeps sending requests is swapped
in with no failed request; a broken version is reported and the old one keeps serving; a
policy answers observations with actions. Tiny steps: behaviour, not quality.
"""

from __future__ import annotations

import math
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from pipelines import predict, tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, split_rows
from tests.e2e.test_refusal import RL

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
ROW = {  # one penguin, every column the model reads
    "island": "Biscoe",
    "bill_length_mm": 45.0,
    "bill_depth_mm": 15.0,
    "flipper_length_mm": 215.0,
    "body_mass_g": 5000.0,
    "sex": "male",
}


class Served:
    """A `kfx serve TASK --port 0` process and the URL it printed."""

    def __init__(self, home: Path, task: str):
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "--home",
                str(home),
                "serve",
                task,
                "--port",
                "0",
                "--poll",
                "0.5",
            ],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.errors: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read_errors, daemon=True).start()
        line = self.process.stdout.readline()
        assert line.startswith(f"serving {task} version "), line + self._stderr()
        self.url = line.split(" at ")[1].split(" ")[0]
        self.version = int(line.split(" version ")[1].split(" ")[0])

    def _read_errors(self):
        for line in self.process.stderr:
            self.errors.put(line)

    def _stderr(self) -> str:
        lines = []
        while not self.errors.empty():
            lines.append(self.errors.get())
        return "".join(lines)

    def predict(self, body: dict, version: int | None = None) -> requests.Response:
        url = self.url if version is None else f"{self.url}/versions/{version}"
        return requests.post(f"{url}:predict", json=body, timeout=60)

    def wait_for(self, version: int, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            status = requests.get(self.url, timeout=10).json()["model_version_status"][0]
            if status["version"] == str(version):
                return
            time.sleep(0.5)
        pytest.fail(f"version {version} never served: {self._stderr()}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("kfx_home")
    first = kfx(root, "run", "penguin", "--train-steps", "60", "--json")
    assert first.code == 0 and first.json["blessed"], first.err
    return root


@pytest.fixture(scope="module")
def served(home):
    server = Served(home, "penguin")
    yield server
    server.stop()


def test_status_and_metadata_are_tf_servings(served, home):
    status = requests.get(served.url, timeout=10).json()["model_version_status"]
    assert status == [
        {
            "version": serving_versions(home, "penguin")[-1],
            "state": "AVAILABLE",
            "status": {"error_code": "OK", "error_message": ""},
        }
    ]
    metadata = requests.get(f"{served.url}/metadata", timeout=10).json()
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    assert signatures["serving_default"]["inputs"]["examples"]["dtype"] == "DT_STRING"


def test_answers_match_kfx_predict_on_the_test_split(served, home, tmp_path):
    rows = split_rows(home, "penguin").drop(columns=["species"])
    csv = tmp_path / "rows.csv"
    rows.to_csv(csv, index=False)
    expected = predict.predict(Home.resolve(home), tasks.get("penguin", Home.resolve(home)), csv)
    instances = [
        {k: v for k, v in row.items() if v is not None and v == v}
        for row in rows.to_dict(orient="records")
    ]
    answer = served.predict({"instances": instances})
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert [p["prediction"] for p in predictions] == list(expected["prediction"])
    assert all(
        math.isclose(p["score"], s, rel_tol=1e-5)
        for p, s in zip(predictions, expected["score"], strict=True)
    )
    names = sorted({k for i in instances for k in i})
    columns = served.predict({"inputs": {k: [i.get(k) for i in instances] for k in names}})
    assert columns.status_code == 200, columns.text
    assert columns.json()["outputs"]["prediction"] == list(expected["prediction"])


def test_a_bad_request_names_the_row_and_column(served):
    answer = served.predict({"instances": [ROW, {**ROW, "bill_length_mm": "long"}]})
    assert answer.status_code == 400
    assert "row 1, column 'bill_length_mm'" in answer.json()["error"]
    missing = served.predict({"instances": [{"island": "Biscoe"}]})
    assert missing.status_code == 400 and "missing column(s)" in missing.json()["error"]


def test_a_new_push_is_swapped_in_under_load_without_a_failed_request(served, home):
    before = served.version
    body = {"instances": [ROW]}
    codes: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def client():
        while not stop.is_set():
            response = served.predict(body)
            codes.append(response.status_code)
            status = requests.get(served.url, timeout=10).json()["model_version_status"][0]
            versions.add(status["version"])

    worker = threading.Thread(target=client)
    worker.start()
    try:
        better = kfx(home, "run", "penguin", "--train-steps", "300", "--json")
        assert better.code == 0 and better.json["blessed"], better.err
        newest = int(serving_versions(home, "penguin")[-1])
        assert newest > before
        served.wait_for(newest)
        time.sleep(1)
    finally:
        stop.set()
        worker.join(60)
    assert codes and set(codes) == {200}, codes
    assert {str(before), str(newest)} <= versions
    assert served.predict(body, version=before).status_code == 404  # only the newest is served


def test_a_broken_version_is_reported_and_the_old_one_keeps_serving(served, home):
    serving = Path(home) / "serving" / "penguin"
    current = serving_versions(home, "penguin")[-1]
    broken = serving / str(int(current) + 1)
    shutil.copytree(serving / current, broken)
    (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
    deadline = time.monotonic() + 30
    reported = ""
    while time.monotonic() < deadline and f"version {broken.name} not served" not in reported:
        try:
            reported += served.errors.get(timeout=1)
        except queue.Empty:
            pass
    assert (
        f"version {broken.name} not served" in reported and f"still serving {current}" in reported
    )
    status = requests.get(served.url, timeout=10).json()["model_version_status"][0]
    assert status["version"] == current
    shutil.rmtree(broken)


def test_a_policy_answers_observations_with_actions(tmp_path):
    trained = kfx(
        tmp_path, "run", "cartpole_dqn", "--train-steps", "3000", *RL, "--threshold", "5", "--json"
    )
    assert trained.code == 0 and trained.json["blessed"], trained.err
    policy = Served(tmp_path, "cartpole_dqn")
    try:
        answer = policy.predict({"instances": [[0.0, 0.0, 0.05, 0.0], [0.0, 0.0, -0.05, 0.0]]})
        assert answer.status_code == 200, answer.text
        actions = [p["prediction"] for p in answer.json()["predictions"]]
        assert all(a in (0, 1) for a in actions), actions
    finally:
        policy.stop()


def test_serving_a_task_with_nothing_pushed_says_what_to_run(tmp_path):
    result = kfx(tmp_path, "serve", "penguin", "--port", "0")
    assert result.code == 2
    assert "no pushed model" in result.err and "kfx run penguin" in result.err
