"""`kfx serve`: TensorFlow Serving's REST API (v1) over a task's `ModelServer`, with werkzeug.

Clients written for TF Serving's REST API work unchanged:
- `GET /v1/models/TASK[/versions/N]`: version status (`model_version_status`);
- `GET /v1/models/TASK[/versions/N]/metadata`: the signatures (`signature_def`, from the
  SavedModel itself);
- `POST /v1/models/TASK[/versions/N]:predict` with `instances` (rows: {column: raw value},
  or for a policy the observation as a list) answering `predictions` (one object per row:
  `prediction` — the class label, action or value — and `score`), or with `inputs`
  (columns) answering `outputs` (columns).
Errors are `{"error": "..."}` with 400 (a request that does not fit), 404 (no such model or
version) or 500. Like TF Serving's default policy, only the newest version is served; it is
swapped while serving (pipelines/serving.py).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from pipelines.errors import TaskError
from pipelines.serving import ModelServer

DEFAULT_PORT = 8501  # TF Serving's REST port


def _json(data, status: int = 200):
    from werkzeug.wrappers import Response

    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(message: str, status: int):
    return _json({"error": message}, status)


def _cell(value) -> str:
    """A raw JSON value as the CSV cell the predictors read (a list: one packed cell)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    return str(value)


def rows(body: dict, features: list[str]):
    """The request's rows as a DataFrame of strings, and whether they came as columns.

    Raises:
        TaskError: neither `instances` nor `inputs`, or rows of the wrong shape.
    """
    import pandas as pd

    if "instances" in body:
        instances, columnar = body["instances"], False
        if not isinstance(instances, list) or not instances:
            raise TaskError("'instances' must be a non-empty list of rows")
        records = []
        for i, row in enumerate(instances):
            if isinstance(row, list) and len(row) == len(features):  # a policy's observation
                row = dict(zip(features, row, strict=True))
            if not isinstance(row, dict):
                raise TaskError(
                    f"instance {i}: expected an object {{column: value}} "
                    f"(columns: {', '.join(features)})"
                )
            records.append({k: _cell(v) for k, v in row.items()})
        return pd.DataFrame.from_records(records).fillna(""), columnar
    if "inputs" in body:
        inputs = body["inputs"]
        if not isinstance(inputs, dict) or not inputs:
            raise TaskError("'inputs' must be an object {column: [values]}")
        lengths = {len(v) if isinstance(v, list) else -1 for v in inputs.values()}
        if len(lengths) != 1 or -1 in lengths or 0 in lengths:
            raise TaskError("'inputs': every column needs a list of values, all the same length")
        frame = pd.DataFrame({k: [_cell(v) for v in values] for k, values in inputs.items()})
        return frame, True
    raise TaskError("the request needs 'instances' (rows) or 'inputs' (columns)")


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def signature_defs(version_dir: Path) -> dict:
    """The SavedModel's signatures as TF Serving's metadata shows them."""
    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    saved = saved_model_pb2.SavedModel()
    saved.ParseFromString((version_dir / "saved_model.pb").read_bytes())
    graph = saved.meta_graphs[0]
    return {name: json_format.MessageToDict(sig) for name, sig in graph.signature_def.items()}


class RestApp:
    """The WSGI application: routes, JSON in and out, TF Serving's error shape."""

    def __init__(self, task: str, server: ModelServer):
        from werkzeug.routing import Map, Rule

        self.task, self.server = task, server
        self._signatures: dict[int, dict] = {}
        model = "/v1/models/<name>"
        version = f"{model}/versions/<int:version>"
        self.urls = Map(
            [
                Rule(model, endpoint="status", methods=["GET"]),
                Rule(version, endpoint="status", methods=["GET"]),
                Rule(f"{model}/metadata", endpoint="metadata", methods=["GET"]),
                Rule(f"{version}/metadata", endpoint="metadata", methods=["GET"]),
                Rule(f"{model}:predict", endpoint="predict", methods=["POST"]),
                Rule(f"{version}:predict", endpoint="predict", methods=["POST"]),
            ]
        )

    def __call__(self, environ, start_response):
        """WSGI: routes the request, answers JSON."""
        from werkzeug.exceptions import MethodNotAllowed, NotFound
        from werkzeug.wrappers import Request

        request = Request(environ)
        try:
            endpoint, values = self.urls.bind_to_environ(environ).match()
        except NotFound:
            response = _error(f"Malformed request: {request.method} {request.path}", 404)
        except MethodNotAllowed:
            response = _error(f"{request.method} is not supported on {request.path}", 405)
        else:
            response = getattr(self, endpoint)(request, **values)
        return response(environ, start_response)

    def _served(self, name: str, version: int | None):
        """The current Version, or an error response for another model or version."""
        served = self.server.current
        if name != self.task or served is None:
            return None, _error(f"Servable not found for request: Latest({name})", 404)
        if version is not None and version != served.number:
            found = f"Specific({name}, {version})"
            return None, _error(f"Servable not found for request: {found}", 404)
        return served, None

    def status(self, request, name: str, version: int | None = None):
        """TF Serving's GetModelStatus."""
        served, error = self._served(name, version)
        if error is not None:
            return error
        state = {"error_code": "OK", "error_message": ""}
        return _json(
            {
                "model_version_status": [
                    {"version": str(served.number), "state": "AVAILABLE", "status": state}
                ]
            }
        )

    def metadata(self, request, name: str, version: int | None = None):
        """TF Serving's GetModelMetadata: the signatures of the served SavedModel."""
        served, error = self._served(name, version)
        if error is not None:
            return error
        if served.number not in self._signatures:
            self._signatures[served.number] = signature_defs(served.path)
        return _json(
            {
                "model_spec": {"name": name, "signature_name": "", "version": str(served.number)},
                "metadata": {
                    "signature_def": {
                        "@type": "type.googleapis.com/tensorflow.serving.SignatureDefMap",
                        "signature_def": self._signatures[served.number],
                    }
                },
            }
        )

    def predict(self, request, name: str, version: int | None = None):
        """TF Serving's Predict, on raw feature values (row or columnar format)."""
        served, error = self._served(name, version)
        if error is not None:
            return error
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except json.JSONDecodeError as err:
            return _error(f"JSON Parse error: {err}", 400)
        if not isinstance(body, dict):
            return _error("the request body must be a JSON object", 400)
        try:
            frame, columnar = rows(body, list(served.manifest.features))
            served, answered = self.server.predict(frame, "request", version)
        except TaskError as err:
            return _error(str(err), 400)
        except LookupError as err:
            return _error(str(err), 404)
        except Exception as err:  # noqa: BLE001 (the model failed: TF Serving's 500)
            return _error(f"{type(err).__name__}: {err}", 500)
        outputs = [c for c in answered.columns if c not in frame.columns]
        if columnar:
            return _json({"outputs": {c: [_plain(v) for v in answered[c]] for c in outputs}})
        predictions = [
            {c: _plain(v) for c, v in zip(outputs, values, strict=True)}
            for values in answered[outputs].itertuples(index=False)
        ]
        return _json({"predictions": predictions})


def serve(
    home, spec, host: str, port: int, poll_s: float = 2.0, on_ready=None, report=None
) -> None:
    """Serves the task's newest pushed version until interrupted; swaps in newer ones.

    `on_ready(url, version)` is called once the port is open; `report(line)` hears of swaps
    and of versions that could not be served.

    Raises:
        TaskError: nothing pushed yet (or no pushed version loads).
    """
    from werkzeug.serving import make_server

    from pipelines import kinds, serving

    serving_dir = home.serving_dir(spec.name)
    server = ModelServer(serving_dir, serving.loader(kinds.of(spec)), report)
    if server.refresh() is None:
        if server.failed:
            failures = "; ".join(f"{v}: {e}" for v, e in server.failed.items())
            raise TaskError(f"{serving_dir}: no pushed version loads ({failures})")
        raise serving.no_version(spec.name, serving_dir)
    httpd = make_server(host, port, RestApp(spec.name, server), threaded=True)
    stop = threading.Event()
    threading.Thread(target=server.watch, args=(poll_s, stop), daemon=True).start()
    if on_ready is not None:
        on_ready(f"http://{host}:{httpd.server_port}/v1/models/{spec.name}", server.current)
    try:
        httpd.serve_forever()
    finally:
        stop.set()
        httpd.server_close()
