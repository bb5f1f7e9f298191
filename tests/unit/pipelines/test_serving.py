"""`kfx serve`'s parts without a trained model: the version swap and the REST layer.

The predictors here are small functions over the request's rows; tests/e2e/test_serve.py
serves real pushed models over HTTP.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from werkzeug.test import Client

from pipelines import serve_http, serving
from pipelines.errors import TaskError


class Manifest:
    features = {"x": "FLOAT", "y": "BYTES"}


def _push(serving_dir: Path, number: int, broken: bool = False) -> Path:
    folder = serving_dir / str(number)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"broken" if broken else b"")
    return folder


def _loader(log: list[str] | None = None, gate: threading.Event | None = None):
    """load(version_dir): version N answers prediction = f"v{N}:{x}"; a 'broken' pb fails."""

    def load(version_dir: Path):
        if (version_dir / "saved_model.pb").read_bytes() == b"broken":
            raise OSError(f"{version_dir}: cannot load")
        number = version_dir.name

        def run(frame, source, first_row=2):
            if gate is not None:
                gate.wait(5)
            if "x" not in frame.columns:
                raise TaskError(f"{source}: missing column(s) x that the model needs")
            frame = frame.copy()
            frame["prediction"] = [f"v{number}:{x}" for x in frame["x"]]
            frame["score"] = [0.5] * len(frame)
            return frame

        return Manifest(), run

    return load


def _frame(**columns):
    import pandas as pd

    return pd.DataFrame(columns)


def test_refresh_serves_the_newest_version_with_a_saved_model(tmp_path):
    _push(tmp_path, 1)
    _push(tmp_path, 3)
    (tmp_path / "5").mkdir()  # being written: no saved_model.pb yet
    server = serving.ModelServer(tmp_path, _loader())
    assert server.refresh().number == 3
    served, answered = server.predict(_frame(x=["1"]), "t")
    assert served.number == 3 and list(answered["prediction"]) == ["v3:1"]


def test_a_version_that_fails_to_load_is_reported_and_the_old_one_keeps_serving(tmp_path):
    lines = []
    _push(tmp_path, 1)
    server = serving.ModelServer(tmp_path, _loader(), lines.append)
    server.refresh()
    _push(tmp_path, 2, broken=True)
    assert server.refresh().number == 1
    assert "cannot load" in server.failed[2]
    assert lines == [
        "serving version 1",
        f"version 2 not served: OSError: {tmp_path}/2: cannot load; still serving 1",
    ]
    _push(tmp_path, 3)
    assert server.refresh().number == 3  # a later good push still comes in


def test_a_new_version_must_answer_the_last_request_before_it_is_swapped_in(tmp_path):
    _push(tmp_path, 1)
    server = serving.ModelServer(tmp_path, _loader())
    server.refresh()
    server.predict(_frame(x=["1"], y=["a"]), "t")  # the probe a new version must answer

    def picky(version_dir):
        manifest, run = _loader()(version_dir)

        def refuse(frame, source, first_row=2):
            raise ValueError("wrongly shaped output")

        return manifest, refuse

    _push(tmp_path, 2)
    server._load = picky
    assert server.refresh().number == 1
    assert "wrongly shaped output" in server.failed[2]


def test_a_request_in_flight_during_a_swap_finishes_on_the_old_version(tmp_path):
    gate = threading.Event()
    _push(tmp_path, 1)
    server = serving.ModelServer(tmp_path, _loader(gate=gate))
    server.refresh()
    result = {}
    worker = threading.Thread(target=lambda: result.update(r=server.predict(_frame(x=["7"]), "t")))
    worker.start()
    _push(tmp_path, 2)
    swapper = threading.Thread(target=server.refresh)
    swapper.start()
    gate.set()
    worker.join(5)
    swapper.join(5)
    served, answered = result["r"]
    assert served.number == 1 and list(answered["prediction"]) == ["v1:7"]
    assert server.current.number == 2


def test_only_the_served_version_answers(tmp_path):
    _push(tmp_path, 4)
    server = serving.ModelServer(tmp_path, _loader())
    with pytest.raises(LookupError, match="no pushed version"):
        server.predict(_frame(x=["1"]), "t")
    server.refresh()
    with pytest.raises(LookupError, match="version 3 is not served"):
        server.predict(_frame(x=["1"]), "t", version=3)


# ---- the REST layer ---------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    import tensorflow as tf

    version = _push(tmp_path, 7)
    (version / "saved_model.pb").unlink()

    class Doubler(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
        def serve(self, examples):
            return {"score": tf.ones_like(examples, tf.float32)}

    module = Doubler()
    tf.saved_model.save(module, str(version), signatures={"serving_default": module.serve})
    server = serving.ModelServer(tmp_path, _loader())
    server.refresh()
    return Client(serve_http.RestApp("penguin", server))


def _post(client, path, body):
    data = body if isinstance(body, str) else json.dumps(body)
    response = client.post(path, data=data, content_type="application/json")
    return response.status_code, response.get_json()


def test_status_is_tf_servings_shape(client):
    response = client.get("/v1/models/penguin")
    assert response.status_code == 200
    status = response.get_json()["model_version_status"]
    assert status == [
        {"version": "7", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]
    assert client.get("/v1/models/penguin/versions/7").status_code == 200


def test_metadata_lists_the_saved_models_signatures(client):
    body = client.get("/v1/models/penguin/metadata").get_json()
    assert body["model_spec"] == {"name": "penguin", "signature_name": "", "version": "7"}
    signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["examples"]["dtype"] == "DT_STRING"
    assert signature["methodName"] == "tensorflow/serving/predict"


def test_predict_rows_answers_predictions(client):
    code, body = _post(client, "/v1/models/penguin:predict", {"instances": [{"x": 1.5, "y": "a"}]})
    assert code == 200
    assert body == {"predictions": [{"prediction": "v7:1.5", "score": 0.5}]}


def test_predict_columns_answers_outputs(client):
    code, body = _post(
        client, "/v1/models/penguin/versions/7:predict", {"inputs": {"x": [1, 2], "y": ["a", "b"]}}
    )
    assert code == 200
    assert body == {"outputs": {"prediction": ["v7:1", "v7:2"], "score": [0.5, 0.5]}}


def test_a_list_value_is_one_packed_cell(client):
    code, body = _post(client, "/v1/models/penguin:predict", {"instances": [{"x": [1, 2, 3]}]})
    assert code == 200 and body["predictions"][0]["prediction"] == "v7:1 2 3"


@pytest.mark.parametrize(
    ("path", "body", "code", "error"),
    [
        ("/v1/models/penguin:predict", "{not json", 400, "JSON Parse error"),
        ("/v1/models/penguin:predict", [1, 2], 400, "must be a JSON object"),
        ("/v1/models/penguin:predict", {"rows": []}, 400, "'instances' (rows) or 'inputs'"),
        ("/v1/models/penguin:predict", {"instances": []}, 400, "non-empty list"),
        ("/v1/models/penguin:predict", {"instances": [5]}, 400, "instance 0: expected an object"),
        ("/v1/models/penguin:predict", {"inputs": {"x": [1], "y": [1, 2]}}, 400, "same length"),
        ("/v1/models/penguin:predict", {"instances": [{"y": "a"}]}, 400, "missing column(s) x"),
        ("/v1/models/penguin/versions/6:predict", {"instances": [{"x": 1}]}, 404, "(penguin, 6)"),
        ("/v1/models/other:predict", {"instances": [{"x": 1}]}, 404, "Latest(other)"),
    ],
)
def test_errors_are_tf_servings_shape_with_the_right_code(client, path, body, code, error):
    got, answer = _post(client, path, body)
    assert got == code and set(answer) == {"error"} and error in answer["error"], answer


def test_a_model_failure_is_a_500_and_an_unknown_route_a_404(client, tmp_path):
    assert client.get("/v2/anything").status_code == 404
    assert client.post("/v1/models/penguin").status_code == 405
    broken = serving.ModelServer(tmp_path, lambda d: (Manifest(), _explode))
    broken.refresh()
    code, body = _post(
        Client(serve_http.RestApp("penguin", broken)),
        "/v1/models/penguin:predict",
        {"instances": [{"x": 1}]},
    )
    assert code == 500 and body == {"error": "RuntimeError: the model broke"}


def _explode(frame, source, first_row=2):
    raise RuntimeError("the model broke")
