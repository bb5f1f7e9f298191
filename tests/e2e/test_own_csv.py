"""Bring-your-own CSV end to end: classification and regression, strings and missing values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import predict, tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, split_rows, states
from tests.fixtures import csvs

pytestmark = pytest.mark.e2e


def _run(home, csv, label, steps="150"):
    result = kfx(
        home, "run", "--data", str(csv), "--label", label, "--train-steps", steps, "--json"
    )
    assert result.code == 0, result.err
    assert set(states(home, csv.stem, result.json["run_id"]).values()) == {"complete"}
    return result.json


def _eval_predictions(home, task, tmp_path):
    rows = split_rows(home, task, "test")
    path = tmp_path / "eval.csv"
    rows.to_csv(path, index=False)
    spec = tasks.get(task, Home.resolve(home))
    return predict.predict(Home.resolve(home), spec, path), spec


def test_classification_csv(tmp_path):
    home = tmp_path / "home"
    csv = csvs.classification(tmp_path)
    summary = _run(home, csv, "variety")
    assert summary["metric"] == "accuracy"
    assert summary["threshold"] == pytest.approx(50 / 150 + 0.01, abs=1e-3)  # majority + 0.01
    assert summary["blessed"] is True
    predicted, spec = _eval_predictions(home, "iris", tmp_path)
    assert spec.problem == "classification" and spec.label == "variety"
    accuracy = float(np.mean(predicted["prediction"] == predicted["variety"]))
    assert accuracy == pytest.approx(summary["value"], abs=1e-6)
    # The user's own file, with its original column names, goes through predict too.
    out = tmp_path / "pred.csv"
    assert kfx(home, "predict", "iris", "--input", str(csv), "--output", str(out)).code == 0
    assert set(pd.read_csv(out)["prediction"]) <= {"setosa", "versicolor", "virginica"}

    # The first run froze the inferred schema: new data with an unknown category is stopped.
    spec = tasks.get("iris", Home.resolve(home))
    assert spec.schema and Path(spec.schema).is_file()
    newer = pd.read_csv(csv)
    newer.loc[:4, "size class"] = "huge"
    newer_csv = tmp_path / "newer.csv"
    newer.to_csv(newer_csv, index=False)
    stopped = kfx(home, "run", "iris", "--data", str(newer_csv), "--train-steps", "20")
    assert stopped.code == 3
    assert "column 'size_class'" in stopped.err and "huge" in stopped.err


def test_regression_csv(tmp_path):
    home = tmp_path / "home"
    csv = csvs.regression(tmp_path)
    summary = _run(home, csv, "progression", steps="300")
    assert summary["metric"] == "rmse"
    label_std = pd.read_csv(csv)["progression"].std(ddof=0)
    assert summary["threshold"] == pytest.approx(label_std, rel=1e-4)
    assert summary["blessed"] is True and summary["value"] < label_std
    predicted, spec = _eval_predictions(home, "diabetes", tmp_path)
    assert spec.problem == "regression"
    errors = predicted["prediction"] - predicted["progression"].astype(float)  # input stays text
    rmse = float(np.sqrt(np.mean(errors**2)))
    assert rmse == pytest.approx(summary["value"], rel=1e-4)
