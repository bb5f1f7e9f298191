"""Multi-output tasks end to end: wide_deep (auxiliary output) and multi_io (two inputs, two
outputs) through the supervised pipeline: per-output metrics, a gate on each gated output,
and `kfx predict` giving every output, in agreement with the Evaluator."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from pipelines import local, metadata, predict, spans, tasks
from pipelines.home import Home
from pipelines.options import RunOptions
from tests.e2e.helpers import kfx, serving_versions, split_rows, states, supervised_components
from trainers.spec import TaskSpec

pytestmark = pytest.mark.e2e

COMPONENTS = supervised_components()
STEPS = 150  # tiny: behaviour, not quality (make bench measures quality)


def _rmse(predicted, actual) -> float:
    error = np.asarray(predicted, dtype=float) - np.asarray(actual, dtype=float)
    return float(np.sqrt(np.mean(error**2)))


def _predict_eval_split(home, task, tmp_path) -> pd.DataFrame:
    rows = split_rows(home, task, "test")
    csv = tmp_path / f"{task}-eval.csv"
    rows.to_csv(csv, index=False)
    return predict.predict(Home.resolve(home), tasks.get(task, Home.resolve(home)), csv)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kfx_home")


@pytest.fixture(scope="module")
def wide(home):
    # A loose gate (the label's spread): these steps test behaviour, not the linear baseline.
    result = kfx(
        home, "run", "wide_deep", "--train-steps", str(STEPS), "--threshold", "8", "--json"
    )
    assert result.code == 0, result.err
    return result.json


def test_wide_deep_reports_both_outputs_gates_on_the_main_one(home, wide):
    assert states(home, "wide_deep", wide["run_id"]) == {c: "complete" for c in COMPONENTS}
    assert wide["metric"] == "rmse" and wide["threshold"] == 8.0
    assert set(wide["metrics"]) == {"mpg/rmse", "aux/rmse"}
    assert wide["value"] == wide["metrics"]["mpg/rmse"] < 8.0
    assert wide["thresholds"] == {"mpg/rmse": 8.0, "aux/rmse": None}
    assert wide["blessed"] is True and wide["pushed_version"] in serving_versions(home, "wide_deep")


def test_wide_deep_predict_gives_both_outputs_and_agrees_with_the_evaluator(home, wide, tmp_path):
    predicted = _predict_eval_split(home, "wide_deep", tmp_path)
    assert len(predicted) > 50  # the test split: 15% of 398 cars
    label = predicted["Miles_per_Gallon"]
    for output in ("mpg", "aux"):
        got = _rmse(predicted[f"{output}_prediction"], label)
        assert got == pytest.approx(wide["metrics"][f"{output}/rmse"], rel=1e-4)
        assert (predicted[f"{output}_score"] == predicted[f"{output}_prediction"]).all()


def test_wide_deep_bad_data_stops_at_the_curated_schema(home, wide, tmp_path):
    frame = pd.read_csv(Home.resolve(home).data_dir("wide_deep") / "span-1" / "data.csv")
    frame.loc[3, "Origin"] = "Atlantis"
    bad = tmp_path / "cars.csv"
    frame.to_csv(bad, index=False)
    before = serving_versions(home, "wide_deep")
    result = kfx(home, "run", "wide_deep", "--data", str(bad), "--json")
    assert result.code == 3
    assert "column 'Origin'" in result.err and "Atlantis" in result.err
    assert serving_versions(home, "wide_deep") == before


def _spec(home, accuracy: float, rmse: float) -> TaskSpec:
    """multi_io with other gates on its two outputs."""
    spec = tasks.get("multi_io", Home.resolve(home))
    sentiment, rating = spec.outputs
    outputs = (
        dataclasses.replace(sentiment, threshold=accuracy),
        dataclasses.replace(rating, threshold=rmse),
    )
    return dataclasses.replace(spec, threshold=accuracy, outputs=outputs)


def _run(home, spec) -> metadata.RunSummary:
    resolved = Home.resolve(home)
    opts = RunOptions(input_dir=spans.input_dir(resolved, spec), train_steps=STEPS)
    run_id = local.run(spec, resolved, opts)
    return metadata.run_summary(resolved, spec.name, run_id, spec)


@pytest.fixture(scope="module")
def reviews(home):
    """multi_io with gates both outputs pass at tiny steps (above chance, below the spread)."""
    return _run(home, _spec(home, accuracy=0.6, rmse=1.2))


def test_multi_io_blesses_when_both_outputs_pass(home, reviews):
    assert {s.node: s.state for s in reviews.steps} == {c: "complete" for c in COMPONENTS}
    scores = {s.key: s for s in reviews.scores}
    assert set(scores) == {"sentiment/accuracy", "rating/rmse"}
    assert scores["sentiment/accuracy"].value >= 0.6 and scores["rating/rmse"].value <= 1.2
    assert reviews.blessed is True and reviews.pushed_version in serving_versions(home, "multi_io")


def test_multi_io_predict_gives_class_and_value_in_agreement(home, reviews, tmp_path):
    predicted = _predict_eval_split(home, "multi_io", tmp_path)
    scores = {s.key: s.value for s in reviews.scores}
    accuracy = float(np.mean(predicted["sentiment_prediction"] == predicted["sentiment"]))
    assert accuracy == pytest.approx(scores["sentiment/accuracy"], abs=1e-6)
    rmse = _rmse(predicted["rating_prediction"], predicted["rating"])
    assert rmse == pytest.approx(scores["rating/rmse"], rel=1e-4)
    assert set(predicted["sentiment_prediction"]) <= {"positive", "negative"}
    assert predicted["sentiment_score"].between(0.5, 1.0).all()


def test_an_impossible_gate_on_the_second_output_blocks_the_push(home, reviews):
    before = serving_versions(home, "multi_io")
    summary = _run(home, _spec(home, accuracy=0.6, rmse=0.01))
    got = {s.node: s.state for s in summary.steps}
    assert got["Trainer"] == "cached"  # same model; only the gate changed
    assert got["Evaluator"] == "complete"
    scores = {s.key: s.value for s in summary.scores}
    assert scores["sentiment/accuracy"] >= 0.6 and scores["rating/rmse"] > 0.01
    assert summary.blessed is False and summary.pushed_model is None
    assert serving_versions(home, "multi_io") == before


def test_an_impossible_main_gate_from_the_cli_blocks_the_push(home, reviews):
    before = serving_versions(home, "multi_io")
    result = kfx(
        home, "run", "multi_io", "--train-steps", str(STEPS), "--threshold", "1.01", "--json"
    )
    assert result.code == 0, result.err
    summary = result.json
    assert summary["metric"] == "accuracy" and summary["threshold"] == 1.01
    assert summary["thresholds"] == {"sentiment/accuracy": 1.01, "rating/rmse": 0.55}
    assert summary["value"] == summary["metrics"]["sentiment/accuracy"] < 1.01
    assert summary["states"]["Trainer"] == "cached"
    assert summary["blessed"] is False and summary["pushed_model"] is None
    assert "NOT BLESSED" in result.out and "rating/rmse" in result.out
    assert serving_versions(home, "multi_io") == before
