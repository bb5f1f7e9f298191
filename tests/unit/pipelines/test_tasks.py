import json

import pytest

from pipelines import own_csv, tasks
from pipelines.errors import TaskError
from tests.unit.pipelines.csv_files import strings_csv


def test_get_penguin(home):
    spec = tasks.get("penguin", home)
    assert spec.label == "species"
    assert spec.problem == "classification"
    assert spec.metric == "accuracy"
    assert spec.schema_path.is_file()


def test_get_unknown_lists_known_tasks(home, tmp_path):
    own_csv.register_csv(home, strings_csv(tmp_path), "kind", name="mine")
    with pytest.raises(TaskError, match="unknown task 'nope'") as err:
        tasks.get("nope", home)
    assert "penguin" in str(err.value)
    assert "mine" in str(err.value)


def test_registered_task_persists(home, tmp_path):
    spec = own_csv.register_csv(home, strings_csv(tmp_path), "kind", name="fl")
    saved = json.loads((home.tasks_dir / "fl.json").read_text())
    assert saved["label"] == "kind"
    assert tasks.get("fl", home) == spec
    names = [s.name for s in tasks.all_tasks(home)]
    assert names == [*tasks.builtin(), "fl"]  # built-in tasks first, then the home's


def test_every_trainer_package_task_is_registered_once():
    specs = tasks.builtin()
    assert {"penguin", "cnn_vgg", "cnn_digits04", "cartpole_dt", "wide_deep"} <= set(specs)
    assert all(name == spec.name for name, spec in specs.items())


def test_every_built_in_gate_says_why_its_threshold_is_where_it_is():
    missing = [
        f"{spec.name}/{output.key}"
        for spec in tasks.builtin().values()
        for output in spec.scored
        if output.threshold is not None and not output.reason.strip()
    ]
    assert not missing, f"thresholds without a reason: {missing}"


def test_unknown_task_suggests_the_nearest_name(home):
    with pytest.raises(TaskError, match="did you mean penguin"):
        tasks.get("pengiun", home)


def test_a_task_declared_twice_is_an_error():
    spec = tasks.builtin()["penguin"]
    found = {}
    tasks._collect(found, [spec], "a")
    with pytest.raises(TaskError, match="declared twice: in a and b"):
        tasks._collect(found, [spec], "b")


def test_a_module_without_a_declaration_is_an_error():
    import types

    with pytest.raises(TaskError, match="declares no TaskSpec"):
        tasks._declared(types.ModuleType("empty"), "empty")


def test_home_task_written_before_the_spec_fields_still_loads(home):
    home.tasks_dir.mkdir(parents=True)
    old = home.tasks_dir / "old.json"
    fields = {
        "name": "cartpole_dqn-acrobot-v1",
        "kind": "rl",
        "trainer": "trainers.cartpole_dqn",
        "data": "environment",
        "dataset": "gymnasium Acrobot-v1 (simulated)",
        "label": "",
        "problem": "control",
        "metric": "mean_return",
        "threshold": -100.0,
        "custom_config": {"env_id": "Acrobot-v1", "target_return": -100.0},
    }
    old.write_text(json.dumps(fields))
    spec = tasks.load(old)
    assert spec.env_id == "Acrobot-v1" and spec.hparams == {"target_return": -100.0}


def test_listing_tasks_does_not_load_tensorflow(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys; from pipelines import cli; cli.main(['--home', sys.argv[1], 'tasks']); "
        "assert 'tensorflow' not in sys.modules, 'kfx tasks imported TensorFlow'"
    )
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-500:]
