"""`kfx run penguin --optimize`: ModelOptimizer after the Evaluator, .tflite files pushed."""

from __future__ import annotations

import json
import os

import pytest

from components import model_optimizer as mo
from pipelines import metadata, predict, tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, split_rows, states

pytestmark = pytest.mark.e2e

STEPS = "60"  # tiny: behaviour, not quality (make bench measures quality)
# Few fine-tuning steps and calibration examples: the component's work, quickly.
OPTIMIZE = (
    "--optimize",
    "--set",
    "optimize.prune_steps=20",
    "--set",
    "optimize.calibration_examples=32",
)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kfx_home")


@pytest.fixture(scope="module")
def blessed(home):
    result = kfx(home, "run", "penguin", "--train-steps", STEPS, *OPTIMIZE, "--json")
    assert result.code == 0, result.err
    assert result.json["blessed"] is True
    return result


@pytest.fixture(scope="module")
def not_blessed(home, blessed):
    before = serving_versions(home, "penguin")
    result = kfx(
        home, "run", "penguin", "--train-steps", STEPS, *OPTIMIZE, "--threshold", "1.01", "--json"
    )
    assert result.code == 0, result.err
    return result, before


def _optimizer_artifact(home, run_id):
    (artifact,) = metadata.node_outputs(Home.resolve(home), "penguin", run_id, "ModelOptimizer")
    return artifact


def _prop(artifact, key):
    value = artifact.custom_properties[key]
    return getattr(value, value.WhichOneof("value"))


def test_optimizer_runs_after_the_evaluator_and_records_size_and_accuracy(home, blessed):
    summary = blessed.json
    run_states = states(home, "penguin", summary["run_id"])
    assert run_states["ModelOptimizer"] == "complete" and run_states["Pusher"] == "complete"
    artifact = _optimizer_artifact(home, summary["run_id"])
    assert _prop(artifact, "optimized") == 1 and _prop(artifact, "metric") == "accuracy"
    # The SavedModel's accuracy on the transformed eval split is the Evaluator's on raw examples.
    assert _prop(artifact, "saved_model_accuracy") == pytest.approx(summary["value"], abs=1e-6)
    assert _prop(artifact, "pruned_sparsity") == pytest.approx(0.5, abs=0.01)
    for variant in ("pruned", "dynamic_range", "int8"):
        assert 0.0 <= _prop(artifact, f"{variant}_accuracy") <= 1.0
    for variant in ("dynamic_range", "int8"):
        size = _prop(artifact, f"{variant}_bytes")
        assert size > 0
        ratio = _prop(artifact, "float_weights_bytes") / size
        assert _prop(artifact, f"{variant}_ratio") == pytest.approx(ratio, rel=1e-5)
    assert _prop(artifact, "int8_float_ops") == "ONE_HOT"  # the rest runs in int8
    # --json and the printed summary carry the same record.
    record = summary["optimizer"]
    assert record["int8"]["accuracy"] == _prop(artifact, "int8_accuracy")
    assert record["saved_model"]["bytes"] == _prop(artifact, "saved_model_bytes")
    assert "optimized (accuracy on the eval split" in blessed.out


def test_pushed_version_has_the_tflite_models_beside_the_saved_model(home, blessed):
    summary = blessed.json
    pushed = Home.resolve(home).serving_dir("penguin") / summary["pushed_version"]
    assert {"saved_model.pb", mo.TFLITE_FILE, mo.INT8_FILE} <= set(os.listdir(pushed))
    artifact = _optimizer_artifact(home, summary["run_id"])
    assert (pushed / mo.INT8_FILE).stat().st_size == _prop(artifact, "int8_bytes")
    report = json.loads((pushed / mo.REPORT_FILE).read_text())
    # MLMD keeps float properties to ~6 significant digits.
    assert report["variants"]["int8"]["value"] == pytest.approx(_prop(artifact, "int8_accuracy"))

    # The pushed int8 file scores what was recorded, on the transformed test examples.
    import tensorflow_transform as tft

    run_id = summary["run_id"]
    by_name = {
        a.uri.split(os.sep)[-2]: a.uri
        for a in metadata.node_outputs(Home.resolve(home), "penguin", run_id, "Transform")
    }
    spec = tft.TFTransformOutput(by_name["transform_graph"]).transformed_feature_spec()
    names = [k for k in spec if k != "species_xf"]
    pattern = os.path.join(by_name["transformed_examples"], "Split-test", "*")
    evaluation = mo.transformed_dataset(pattern, spec, "species_xf", names, 64)
    accuracy = mo.tflite_score((pushed / mo.INT8_FILE).read_bytes(), evaluation, "classification")
    assert accuracy == pytest.approx(_prop(artifact, "int8_accuracy"), abs=1e-6)

    # The SavedModel in the same folder still serves raw rows.
    rows = split_rows(home, "penguin", "test").head(5)
    csv = Home.resolve(home).root / "five.csv"
    rows.to_csv(csv, index=False)
    spec_ = tasks.get("penguin", Home.resolve(home))
    assert len(predict.predict(Home.resolve(home), spec_, csv)) == 5


def test_a_model_that_is_not_blessed_is_neither_optimised_nor_pushed(home, not_blessed):
    result, before = not_blessed
    summary = result.json
    assert summary["blessed"] is False and summary["pushed_model"] is None
    assert summary["optimizer"] is None
    assert serving_versions(home, "penguin") == before
    assert states(home, "penguin", summary["run_id"])["ModelOptimizer"] == "complete"
    assert _prop(_optimizer_artifact(home, summary["run_id"]), "optimized") == 0


def test_optimize_settings_are_checked_before_the_run(home):
    result = kfx(home, "run", "penguin", "--set", "optimize.target_sparsity=0.7")
    assert result.code == 2 and "needs --optimize" in result.err
    result = kfx(home, "run", "penguin", "--optimize", "--set", "optimize.sparsity=0.7")
    assert result.code == 2 and "unknown hyper-parameter 'sparsity'" in result.err
    result = kfx(home, "run", "cartpole_dqn", "--optimize")
    assert result.code == 2 and "--optimize applies to supervised tasks" in result.err
