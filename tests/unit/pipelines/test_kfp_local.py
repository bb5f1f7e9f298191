"""The kfp.local runner's helpers: the command fix-ups, task names, errors, uploads."""

import json
from pathlib import Path

from pipelines import kfp_local, kubeflow, tasks
from pipelines.home import Home


def _command(artifacts: dict, declared: dict) -> list[str]:
    invocation = {
        "inputs": {"artifacts": artifacts},
        "outputs": {"outputFile": "/root/pipelines/x/penguin-1/tSchemaGen/executor_output.json"},
    }
    return [
        "python",
        "-m",
        "components.entrypoint",
        kfp_local.INVOCATION,
        json.dumps(invocation),
        kfp_local.INPUTS_SPEC,
        json.dumps({"artifacts": declared}),
    ]


def test_typed_inputs_restores_the_declared_artifact_type():
    tfx_examples = {"schemaTitle": "tfx.Examples", "schemaVersion": "0.0.1"}
    command = _command(
        {"examples": {"artifacts": [{"uri": "/a", "type": {"schemaTitle": "system.Artifact"}}]}},
        {"examples": {"artifactType": tfx_examples}},
    )
    fixed = kfp_local.typed_inputs(command)
    invocation = json.loads(fixed[fixed.index(kfp_local.INVOCATION) + 1])
    assert invocation["inputs"]["artifacts"]["examples"]["artifacts"][0]["type"] == tfx_examples
    assert fixed[:3] == command[:3] and fixed[-2:] == command[-2:]


def test_typed_inputs_leaves_other_commands_alone():
    assert kfp_local.typed_inputs(["echo", "hi"]) == ["echo", "hi"]


def test_task_folder_is_where_kfp_local_writes_the_executor_output():
    assert kfp_local._task_folder(_command({}, {})) == "tSchemaGen"


def test_task_folders_map_kfp_locals_cut_names_back_to_tasks(tmp_path):
    package = tmp_path / "p.yaml"
    package.write_text(
        "root:\n  dag:\n    tasks:\n      ImportSchemaGen:\n"
        "        componentRef: {name: ImportSchemaGen}\n---\nplatforms: {}\n"
    )
    assert kfp_local.task_folders(package) == {"tSchemaGen": "ImportSchemaGen"}


def test_last_error_is_the_exception_after_the_last_traceback(tmp_path):
    log = tmp_path / "AnomalyGate.log"
    log.write_text(
        'noise\nTraceback (most recent call last):\n  File "a.py", line 1\n    x()\n'
        'ValueError: first\nTraceback (most recent call last):\n  File "b.py", line 2\n'
        "    y()\ncomponents.anomaly_gate.DataValidationError: 1 anomaly\n  [train] column 'x'\n"
        "fix the data\n"
    )
    assert kfp_local.last_error(log) == (
        "components.anomaly_gate.DataValidationError: 1 anomaly\n  [train] column 'x'\nfix the data"
    )
    assert kfp_local.last_error(tmp_path / "missing.log") == ""


def test_upload_copies_new_spans_and_the_schema_but_not_a_rejected_span(tmp_path):
    home = Home(tmp_path / "home")
    spec = tasks.get("penguin", home)
    remote = kubeflow.RemoteHome(str(tmp_path / "remote"))
    for number in (1, 2):
        folder = home.data_dir("penguin") / f"span-{number}"
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text(f"span {number}\n")
    rejected = Path(remote.data_dir("penguin")) / "rejected" / "span-2-20261201T000000"
    rejected.mkdir(parents=True)
    kfp_local.upload_data(home, spec, remote)
    data = Path(remote.data_dir("penguin"))
    assert (data / "span-1" / "data.csv").read_text() == "span 1\n"
    assert not (data / "span-2").exists()  # the pipeline rejected it; it stays rejected
    assert Path(remote.schema_file("penguin")).read_text() == spec.schema_path.read_text()
