"""A task from an installed package: no kfx file edited, found through the `kfx.tasks` group.

The package is written into a temporary folder (task declaration, data, Transform, model)
with a `.dist-info` whose entry point names its `task` module, as `pip install` of a package
with `[project.entry-points."kfx.tasks"]` would leave it; the folder goes on PYTHONPATH and
the real `kfx` console script runs in a subprocess.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PACKAGE = "kfx_iris_plugin"
TASK = "iris_plugin"
BROKEN = "iris_pyfunc_export"  # the same model, exported so that only its own process can call it
FAILING = "iris_trainer_fails"  # its run_fn raises
FILES = {
    "__init__.py": '"""Iris species, as a kfx task from outside kfx."""\n',
    "features.py": """
        LABEL = "species"
        NUMERIC = ("sepal_length", "sepal_width", "petal_length", "petal_width")
    """,
    "task.py": f"""
        import dataclasses

        from trainers.spec import TaskSpec

        from {PACKAGE}.features import LABEL

        TASK = TaskSpec(
            name="{TASK}",
            kind="supervised",
            trainer="{PACKAGE}",
            data="{PACKAGE}.data",
            dataset="scikit-learn iris (150 flowers, 3 species)",
            label=LABEL,
            problem="classification",
            metric="accuracy",
            threshold=0.5,
            train_steps=200,
        )
        BROKEN = dataclasses.replace(
            TASK,
            name="{BROKEN}",
            trainer="{PACKAGE}.broken",
            preprocessing="{PACKAGE}.preprocessing",
        )
        FAILING = dataclasses.replace(BROKEN, name="{FAILING}", trainer="{PACKAGE}.failing")
        TASKS = (TASK, BROKEN, FAILING)
    """,
    "failing/__init__.py": '"""A trainer that raises."""\n',
    "failing/model.py": """
        def run_fn(fn_args):
            raise ValueError("the plug-in's trainer is broken")
    """,
    "broken/__init__.py": '"""The iris model, its serving_default through tf.py_function."""\n',
    "broken/model.py": f"""
        import os
        import shutil
        import tempfile

        import tensorflow as tf

        from {PACKAGE} import model

        SIGNATURE = [tf.TensorSpec([None], tf.string, name="examples")]


        class PyFunctionServing(tf.Module):
            def __init__(self, loaded):
                super().__init__()
                self.loaded = loaded

            @tf.function(input_signature=SIGNATURE)
            def serve(self, examples):
                out = dict(self.loaded.signatures["serving_default"](examples=examples))
                # A Python callback: the saved graph names it, only this process holds it.
                found = tf.py_function(tf.identity, [out["probabilities"]], tf.float32)
                found.set_shape(out["probabilities"].shape)
                return {{**out, "probabilities": found}}

            @tf.function(input_signature=SIGNATURE)
            def transform_features(self, examples):
                return self.loaded.signatures["transform_features"](examples=examples)


        def run_fn(fn_args):
            model.run_fn(fn_args)
            folder = fn_args.serving_model_dir
            wrapped = PyFunctionServing(tf.saved_model.load(folder))
            staged = os.path.join(tempfile.mkdtemp(), "model")
            signatures = {{
                "serving_default": wrapped.serve,
                "transform_features": wrapped.transform_features,
            }}
            tf.saved_model.save(wrapped, staged, signatures=signatures)
            extra = "assets.extra"  # the kfx manifest
            shutil.copytree(os.path.join(folder, extra), os.path.join(staged, extra))
            shutil.rmtree(folder)
            shutil.copytree(staged, folder)
    """,
    "data.py": f"""
        from pathlib import Path

        from {PACKAGE}.features import LABEL, NUMERIC


        def write(dest_dir):
            from sklearn.datasets import load_iris

            iris = load_iris(as_frame=True)
            frame = iris.data.set_axis(list(NUMERIC), axis=1)
            frame[LABEL] = [iris.target_names[i] for i in iris.target]
            dest = Path(dest_dir) / "data.csv"
            dest.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(dest, index=False)
    """,
    "preprocessing.py": f"""
        from trainers.common import transforms

        from {PACKAGE}.features import LABEL, NUMERIC


        def preprocessing_fn(inputs):
            return transforms.tabular(inputs, LABEL, "classification", features=NUMERIC)
    """,
    "model.py": """
        import dataclasses

        from trainers.common import keras_run, mlp


        @dataclasses.dataclass(frozen=True)
        class HParams(mlp.HParams):
            units: int = 16


        RECIPE = keras_run.Recipe(HParams(), mlp.build)


        def run_fn(fn_args):
            keras_run.run(fn_args, RECIPE)
    """,
}


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> dict[str, str]:
    """Environment of a `kfx` whose sys.path holds the plug-in package."""
    root = tmp_path_factory.mktemp("site")
    package = root / PACKAGE
    for name, text in FILES.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(textwrap.dedent(text).lstrip())
    info = root / f"{PACKAGE}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[kfx.tasks]\n{TASK} = {PACKAGE}.task\n")
    env = dict(os.environ, PYTHONPATH=str(root), TF_CPP_MIN_LOG_LEVEL="3")
    return env


def _kfx(env, home: Path, *args: str) -> subprocess.CompletedProcess:
    kfx = Path(sys.executable).with_name("kfx")
    return subprocess.run(
        [str(kfx), "--home", str(home), *args], env=env, capture_output=True, text=True
    )


def test_an_installed_package_adds_a_task_that_runs_to_a_pushed_model(plugin, tmp_path):
    home = tmp_path / "home"
    listed = _kfx(plugin, home, "tasks", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows[TASK]["kind"] == "supervised" and "iris" in rows[TASK]["dataset"]
    assert "penguin" in rows  # the built-in tasks are still there

    run = _kfx(plugin, home, "run", TASK, "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["blessed"] is True and summary["pushed_model"], summary
    assert (Path(summary["pushed_model"]) / "saved_model.pb").is_file()

    rows_csv = tmp_path / "flowers.csv"
    rows_csv.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    predicted = _kfx(plugin, home, "predict", TASK, "--input", str(rows_csv))
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.splitlines()[1].split(",")[4] == "setosa"


def test_an_export_only_its_own_process_can_call_is_evaluated_but_never_pushed(plugin, tmp_path):
    """The Evaluator runs beside the Trainer and can call it; TF Serving could not."""
    home = tmp_path / "home"
    run = _kfx(plugin, home, "run", BROKEN, "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert summary["states"]["Evaluator"] == summary["states"]["ServingCheck"] == "complete"
    assert summary["metrics"]["accuracy"] > summary["gate"]["naive"] + 0.01  # it learnt
    gate_blessings = list((home / "pipelines" / BROKEN / "ModelGate" / "blessing").glob("*"))
    assert [(b / "BLESSED").is_file() for b in gate_blessings] == [True]  # the gate passed it
    reason = summary["gate"]["reason"]
    assert summary["blessed"] is False and summary["pushed_model"] is None, reason
    assert reason.startswith("serving check: it cannot load and answer in a fresh process: ")
    assert "pyfunc" in reason and "EagerPyFunc" in reason
    assert not any((home / "serving" / BROKEN).glob("*"))


def test_a_failing_component_exits_1_naming_it_and_its_log(plugin, tmp_path):
    home = tmp_path / "home"
    run = _kfx(plugin, home, "run", FAILING)
    assert run.returncode == 1, run.stderr
    assert "Trainer failed: " in run.stderr and "the plug-in's trainer is broken" in run.stderr
    log = Path(re.search(r"its log: (\S+\.log)", run.stderr).group(1))
    assert log.parent == home / "logs"
    assert "ValueError: the plug-in's trainer is broken" in log.read_text()  # the traceback
    assert "Traceback" not in run.stderr
    verbose = _kfx(plugin, home, "run", FAILING, "-v")  # -v: the same logs, live
    assert verbose.returncode == 1
    assert "Traceback (most recent call last)" in verbose.stderr
    assert "ValueError: the plug-in's trainer is broken" in verbose.stderr


def test_without_the_package_the_task_is_unknown(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = _kfx(env, tmp_path / "home", "run", TASK)
    assert result.returncode == 2 and f"unknown task {TASK!r}" in result.stderr
