"""Scheduled retraining, locally: three spans, warm starts, and a blessing history in MLMD."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines import metadata
from pipelines.home import Home
from tests.e2e.helpers import kfx

pytestmark = pytest.mark.e2e


def _blessing(home: Home, run_id: str) -> dict:
    for artifact in metadata.node_outputs(home, "penguin", run_id, "ModelGate"):
        if "blessed" in artifact.custom_properties:
            return {k: v.int_value or v.string_value for k, v in artifact.custom_properties.items()}
    raise AssertionError(f"no blessing in run {run_id}")


def test_three_spans_retrain_from_the_last_blessed_model(tmp_path):
    home = Home.resolve(tmp_path / "home")
    first = kfx(home.root, "run", "penguin", "--train-steps", "60", "--json")
    assert first.code == 0, first.err
    rows = pd.read_csv(home.data_dir("penguin") / "span-1" / "data.csv")
    later = []
    for span, seed in ((2, 1), (3, 2)):  # each scheduled run sees a new sample of penguins
        new_data = tmp_path / f"span{span}.csv"
        rows.sample(frac=0.9, random_state=seed).to_csv(new_data, index=False)
        result = kfx(
            home.root,
            "run",
            "penguin",
            "--data",
            str(new_data),
            "--warm-start",
            "--train-steps",
            "30",
            "--json",
        )
        assert result.code == 0, result.err
        later.append(result.json)

    history = json.loads(kfx(home.root, "runs", "penguin", "--json").out)
    assert [run["span"] for run in history] == [1, 2, 3]
    assert history[0]["blessed"] is True
    blessed_model_ids = [_blessing(home, first.json["run_id"])["current_model_id"]]
    for run in later:
        states = {
            step["node"]: step["state"]
            for step in next(h for h in history if h["run_id"] == run["run_id"])["steps"]
        }
        assert states["warm_start_model_resolver"] == "complete"
        assert states["Trainer"] == "complete" and states["Evaluator"] == "complete"
        blessing = _blessing(home, run["run_id"])
        # The Evaluator compared the candidate with the newest model blessed before it.
        assert blessing["baseline_model_id"] == blessed_model_ids[-1]
        if run["blessed"]:
            blessed_model_ids.append(blessing["current_model_id"])
        else:
            assert run["pushed_model"] is None
    logs = "".join(p.read_text() for p in home.logs_dir().glob("*.log"))
    assert logs.count("warm start: copied") == 2
