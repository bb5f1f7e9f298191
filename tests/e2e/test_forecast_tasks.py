"""Forecasting end to end: window examples in time-ordered splits, the last-value gate, predict.

stocks_transformer runs on all of its data at default settings (about 400 windows, a minute):
it must not be worse than the last value, and is blessed, pushed and served. sine_rnn and
weather_transformer run a few steps on a few windows (`--set limit=...`): an almost untrained
forecaster is the last value itself, so the gate must refuse it for missing its factor.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, states, supervised_components
from trainers.timeseries import data

pytestmark = pytest.mark.e2e

TINY = ("--train-steps", "20", "--json")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("forecast_home"))


@pytest.fixture(scope="module")
def stocks(home):
    result = kfx(home.root, "run", "stocks_transformer", "--json")
    assert result.code == 0, result.err
    return result.json


def _split(home: Home, task: str, split: str) -> list[tuple[np.ndarray, float]]:
    root = home.pipeline_root(task) / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return [
        row for path in sorted((newest / f"Split-{split}").glob("*.gz")) for row in data.read(path)
    ]


def _last_value_rmse(rows) -> float:
    return math.sqrt(np.mean([(w[-1] - t) ** 2 for w, t in rows]))


def test_stocks_is_not_worse_than_the_last_value_and_is_pushed(home, stocks):
    assert stocks["blessed"] is True, stocks["gate"]["reason"]
    task = "stocks_transformer"
    components = supervised_components("ImportExampleGen")
    assert states(home.root, task, stocks["run_id"]) == {c: "complete" for c in components}
    gate = stocks["gate"]
    assert gate["naive"] == pytest.approx(_last_value_rmse(_split(home, task, "test")), rel=1e-5)
    assert gate["checks"][0]["factor"] == 1.0 and stocks["value"] <= gate["naive"]
    assert serving_versions(home.root, task) == [stocks["pushed_version"]]


def test_the_splits_are_time_ranges_of_every_ticker(home, stocks):
    train, test = (_split(home, "stocks_transformer", s) for s in ("train", "test"))
    # Five tickers, each split 70/15/15 in time: the test split holds each one's last months.
    assert len(train) > 4 * len(test) > 0
    assert all(len(w) == 12 for w, _ in train + test)


def test_predict_on_the_test_windows_agrees_with_the_evaluator(home, stocks, tmp_path):
    rows = _split(home, "stocks_transformer", "test")
    source, out = tmp_path / "windows.csv", tmp_path / "forecast.csv"
    pd.DataFrame({"window": " ".join(f"{v:.9g}" for v in w), "target": t} for w, t in rows).to_csv(
        source, index=False
    )
    result = kfx(
        home.root, "predict", "stocks_transformer", "--input", str(source), "--output", str(out)
    )
    assert result.code == 0, result.err
    predicted = pd.read_csv(out)
    rmse = math.sqrt(np.mean((predicted["prediction"] - predicted["target"]) ** 2))
    assert rmse == pytest.approx(stocks["value"], rel=1e-4)


@pytest.mark.parametrize(
    ("task", "extra"),
    [("sine_rnn", ("--set", "cell=lstm")), ("weather_transformer", ("--set", "attention=scratch"))],
)
def test_a_forecaster_that_barely_trained_is_refused_for_its_factor(home, task, extra):
    result = kfx(home.root, "run", task, *TINY, "--set", "limit=150", *extra)
    assert result.code == 0, result.err
    run = result.json
    gate = run["gate"]
    assert run["blessed"] is False and run["pushed_version"] is None
    assert gate["naive"] == pytest.approx(_last_value_rmse(_split(home, task, "test")), rel=1e-5)
    factor = gate["checks"][0]["factor"]
    assert run["value"] > factor * gate["naive"] and f"{factor:g}x" in gate["reason"]
    assert serving_versions(home.root, task) == []
