"""The supervised pipeline end to end on penguins: real TFX runners, MLMD, Evaluator, Pusher."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines import predict, tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, split_rows, states, supervised_components

pytestmark = pytest.mark.e2e

COMPONENTS = supervised_components()
STEPS = "60"  # tiny: behaviour, not quality (make bench measures quality)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kfx_home")


@pytest.fixture(scope="module")
def first(home):
    result = kfx(home, "run", "penguin", "--train-steps", STEPS, "--json")
    assert result.code == 0, result.err
    return result


def test_first_run_executes_every_component_blesses_and_pushes(home, first):
    summary = first.json
    assert summary["task"] == "penguin" and summary["metric"] == "accuracy"
    assert summary["threshold"] == 0.97
    assert summary["blessed"] is True and summary["value"] >= 0.97
    assert (Home.resolve(home).serving_dir("penguin") / summary["pushed_version"]).is_dir()
    assert (json.loads(json.dumps(summary["components"])).keys()) == COMPONENTS
    assert states(home, "penguin", summary["run_id"]) == {c: "complete" for c in COMPONENTS}
    # TensorBoard can read the Trainer's training curves from the run's model_run dir.
    from tensorboard.backend.event_processing import event_multiplexer

    model_run = Home.resolve(home).pipeline_root("penguin") / "Trainer" / "model_run"
    logs = event_multiplexer.EventMultiplexer()
    logs.AddRunsFromDirectory(str(model_run))
    logs.Reload()
    tags = {tag for run in logs.Runs() for tag in logs.GetAccumulator(run).Tags()["tensors"]}
    assert {"epoch_loss", "epoch_accuracy"} <= tags
    # One progress line per component on stderr, with its state.
    for component in COMPONENTS:
        assert any(line.split()[:1] == [component] for line in first.err.splitlines())


def test_predict_agrees_with_the_evaluator(home, first, tmp_path):
    rows = split_rows(home, "penguin", "test")
    csv = tmp_path / "eval.csv"
    rows.to_csv(csv, index=False)
    spec = tasks.get("penguin", Home.resolve(home))
    predicted = predict.predict(Home.resolve(home), spec, csv)
    accuracy = float(np.mean(predicted["prediction"] == predicted["species"]))
    assert len(predicted) == len(rows) > 40  # the test split: ~15% of 342 penguins
    assert accuracy == pytest.approx(first.json["value"], abs=1e-6)
    assert predicted["score"].between(0, 1).all()


def test_cli_predict_writes_prediction_and_score_columns(home, first, tmp_path):
    source = Home.resolve(home).data_dir("penguin") / "span-1" / "data.csv"
    out = tmp_path / "pred.csv"
    result = kfx(home, "predict", "penguin", "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    import pandas as pd

    frame = pd.read_csv(out)
    assert list(frame.columns[-2:]) == ["prediction", "score"]
    assert set(frame["prediction"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    assert (frame["prediction"] == frame["species"]).mean() > 0.9


def test_second_run_is_served_from_cache(home, first):
    again = kfx(home, "run", "penguin", "--train-steps", STEPS, "--json")
    assert again.code == 0, again.err
    got = states(home, "penguin", again.json["run_id"])
    assert got.pop("baseline_model_resolver") == "complete"  # resolvers always run
    assert set(got.values()) == {"cached"}
    assert again.json["pushed_model"] == first.json["pushed_model"]
    assert again.json["value"] == first.json["value"]


def test_no_cache_executes_every_component_again(home, first):
    again = kfx(home, "run", "penguin", "--train-steps", STEPS, "--no-cache", "--json")
    assert again.code == 0, again.err
    assert states(home, "penguin", again.json["run_id"]) == {c: "complete" for c in COMPONENTS}
    # Determinism: the same seed on the same span trains the same model (measured: identical).
    assert again.json["value"] == first.json["value"]


def test_bad_csv_stops_before_training_and_pushes_nothing(home, first, tmp_path):
    import pandas as pd

    frame = pd.read_csv(Home.resolve(home).data_dir("penguin") / "span-1" / "data.csv")
    frame.loc[3, "island"] = "Atlantis"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    before = serving_versions(home, "penguin")

    result = kfx(home, "run", "penguin", "--data", str(bad), "--train-steps", STEPS, "--json")

    assert result.code == 3
    assert "column 'island'" in result.err and "Atlantis" in result.err
    assert str(bad) in result.err
    run_id = result.json["run_id"]
    got = states(home, "penguin", run_id)
    assert got["AnomalyGate"] == "failed"
    assert not {"Transform", "Trainer", "Evaluator", "Pusher"} & set(got)
    assert serving_versions(home, "penguin") == before


def test_a_drifted_span_stops_before_training_and_accept_drift_lets_it_through(
    home, first, tmp_path
):
    import pandas as pd

    frame = pd.read_csv(Home.resolve(home).data_dir("penguin") / "span-1" / "data.csv")
    frame["bill_length_mm"] = (frame["bill_length_mm"] * 1.2).round(1)  # in range, but moved
    shifted = tmp_path / "shifted.csv"
    frame.to_csv(shifted, index=False)
    before = serving_versions(home, "penguin")
    args = ("run", "penguin", "--data", str(shifted), "--train-steps", STEPS, "--json")

    result = kfx(home, *args)
    assert result.code == 3, result.err
    assert "[drift] column 'bill_length_mm'" in result.err and "--accept-drift" in result.err
    got = states(home, "penguin", result.json["run_id"])
    assert got["ExampleValidator"] == got["DriftCheck"] == "complete"  # no schema anomaly
    assert got["AnomalyGate"] == "failed" and "Trainer" not in got
    assert serving_versions(home, "penguin") == before

    accepted = kfx(home, *args, "--accept-drift")
    assert accepted.code == 0, accepted.err
    assert states(home, "penguin", accepted.json["run_id"])["Trainer"] == "complete"


def test_warm_start_trains_from_the_blessed_model(home, first):
    result = kfx(home, "run", "penguin", "--warm-start", "--train-steps", "20", "--json")
    assert result.code == 0, result.err
    got = states(home, "penguin", result.json["run_id"])
    assert got["Trainer"] == "complete" and got["Evaluator"] == "complete"
    assert got["warm_start_model_resolver"] == "complete"
    logs = "".join(p.read_text() for p in Home.resolve(home).logs_dir().glob("*.log"))
    assert "warm start: copied" in logs and "warm start: copied 0 layers" not in logs
    if not result.json["blessed"]:  # a worse model is never pushed
        assert result.json["pushed_model"] is None


def test_beam_runner_runs_the_same_pipeline(tmp_path):
    result = kfx(tmp_path, "run", "penguin", "--runner", "beam", "--train-steps", "20", "--json")
    assert result.code == 0, result.err
    got = states(tmp_path, "penguin", result.json["run_id"])
    assert got == {c: "complete" for c in COMPONENTS}


def test_direct_runner_multi_processing_workers(tmp_path):
    """--beam-workers 2: the Beam components run in DirectRunner's multi_processing mode."""
    result = kfx(tmp_path, "run", "penguin", "--beam-workers", "2", "--train-steps", "20", "--json")
    assert result.code == 0, result.err
    assert states(tmp_path, "penguin", result.json["run_id"]) == {c: "complete" for c in COMPONENTS}
    log = next(Home.resolve(tmp_path).logs_dir().glob("penguin-*.log")).read_text()
    assert "direct_running_mode=multi_processing" in log and "direct_num_workers=2" in log


def test_beam_runner_and_beam_arg_reach_beam(tmp_path):
    """--beam-runner FlinkRunner: Beam itself starts Flink's job server, from --beam-arg's jar.

    Offline there is no Flink: the failure is the proof of which runner ran. ExampleGen
    fails naming the jar given with --beam-arg, exit 1, the log's path, and nothing trains.
    """
    jar = tmp_path / "no-such-flink-job-server.jar"
    result = kfx(
        tmp_path,
        "run",
        "penguin",
        "--beam-runner",
        "FlinkRunner",
        f"--beam-arg=--flink_job_server_jar={jar}",
        "--train-steps",
        "20",
        "--json",
    )
    assert result.code == 1, result.err
    assert "CsvExampleGen failed" in result.err and str(jar) in result.err
    assert "its log:" in result.err
    got = states(tmp_path, "penguin", result.json["run_id"])
    assert got["CsvExampleGen"] == "failed" and "Trainer" not in got
    assert not serving_versions(tmp_path, "penguin")
