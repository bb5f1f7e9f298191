"""The RL pipeline end to end with a tiny budget: RLTrainer → PolicyEvaluator → Pusher."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines import tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, states

pytestmark = pytest.mark.e2e

TINY = (
    "--train-steps",
    "3000",
    "--set",
    "learning_starts=500",
    "--set",
    "eval_every=1000",
    "--eval-episodes",
    "10",
)
COMPONENTS = {"RLTrainer", "baseline_model_resolver", "PolicyEvaluator", "Pusher", "Report"}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("rl_home"))


@pytest.fixture(scope="module")
def first(home):
    # A gate a 3,000-step policy can pass: this checks the plumbing, `make bench` the quality.
    result = kfx(home.root, "run", "cartpole_dqn", *TINY, "--threshold", "5", "--json")
    assert result.code == 0, result.err
    return result.json


def test_policy_is_trained_evaluated_blessed_and_pushed(home, first):
    assert states(home.root, "cartpole_dqn", first["run_id"]) == {c: "complete" for c in COMPONENTS}
    assert first["metric"] == "mean_return" and first["blessed"] is True
    assert first["value"] >= 5 and serving_versions(home.root, "cartpole_dqn")
    model_run = home.pipeline_root("cartpole_dqn") / "RLTrainer" / "model_run"
    summary = json.loads(next(model_run.glob("*/summary.json")).read_text())
    assert summary["env_steps"] >= 3000 and summary["env_id"] == "CartPole-v1"
    evaluation = home.pipeline_root("cartpole_dqn") / "PolicyEvaluator" / "evaluation"
    report = json.loads(next(evaluation.glob("*/returns.json")).read_text())
    assert len(report["returns"]) == 10 and report["mean_return"] == pytest.approx(first["value"])


def test_predict_maps_observations_to_actions(home, first, tmp_path):
    rows = pd.DataFrame(
        {"obs_0": [0.0, 0.1], "obs_1": [0.0, 0.5], "obs_2": [0.05, -0.2], "obs_3": [0.5, -1.0]}
    )
    source = tmp_path / "obs.csv"
    rows.to_csv(source, index=False)
    out = tmp_path / "actions.csv"
    result = kfx(home.root, "predict", "cartpole_dqn", "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    actions = pd.read_csv(out)
    assert set(actions["prediction"]) <= {0, 1} and len(actions) == 2
    bad = tmp_path / "bad.csv"
    rows.drop(columns="obs_3").to_csv(bad, index=False)
    failed = kfx(home.root, "predict", "cartpole_dqn", "--input", str(bad))
    assert failed.code == 2 and "obs_3" in failed.err


def test_second_run_is_cached_and_warm_start_retrains(home, first):
    again = kfx(home.root, "run", "cartpole_dqn", *TINY, "--threshold", "5", "--json")
    got = states(home.root, "cartpole_dqn", again.json["run_id"])
    assert got.pop("baseline_model_resolver") == "complete" and set(got.values()) == {"cached"}

    warm = kfx(
        home.root, "run", "cartpole_dqn", *TINY, "--threshold", "5", "--warm-start", "--json"
    )
    assert warm.code == 0, warm.err
    got = states(home.root, "cartpole_dqn", warm.json["run_id"])
    assert got["RLTrainer"] == "complete" and got["warm_start_model_resolver"] == "complete"
    runs = sorted(
        (home.pipeline_root("cartpole_dqn") / "RLTrainer" / "model_run").iterdir(),
        key=lambda p: int(p.name),
    )
    summary = json.loads((runs[-1] / "summary.json").read_text())
    assert summary["warm_started_from"] and summary["warm_started_from"].endswith("Format-Serving")


def test_same_seed_without_the_cache_trains_the_same_policy(home, first):
    again = kfx(home.root, "run", "cartpole_dqn", *TINY, "--threshold", "5", "--no-cache", "--json")
    assert again.code == 0, again.err
    assert states(home.root, "cartpole_dqn", again.json["run_id"]) == {
        c: "complete" for c in COMPONENTS
    }
    # Tolerance 0 for the rl kind: bench_determinism measured identical returns and weights.
    assert again.json["value"] == first["value"]


def test_another_env_is_its_own_task(home):
    result = kfx(
        home.root,
        "run",
        "cartpole_dqn",
        "--env",
        "Acrobot-v1",
        "--train-steps",
        "1000",
        "--set",
        "learning_starts=200",
        "--set",
        "eval_every=500",
        "--eval-episodes",
        "3",
        "--json",
    )
    assert result.code == 0, result.err
    assert result.json["task"] == "cartpole_dqn-acrobot-v1"
    spec = tasks.get("cartpole_dqn-acrobot-v1", home)
    assert spec.threshold == -100.0 and spec.env_id == "Acrobot-v1"


def test_online_q_learning_task_runs_blesses_and_pushes(home):
    result = kfx(
        home.root,
        "run",
        "cartpole_qnet",
        # The smallest budget measured to beat the random policy on the gate's episodes
        # (127 vs 23 mean return; 16,000 steps: 22.8).
        "--train-steps",
        "24000",
        "--set",
        "eval_every=2000",
        "--eval-episodes",
        "5",
        "--threshold",
        "5",
        "--json",
    )
    assert result.code == 0, result.err
    assert states(home.root, "cartpole_qnet", result.json["run_id"]) == {
        c: "complete" for c in COMPONENTS
    }
    assert result.json["blessed"] is True and serving_versions(home.root, "cartpole_qnet")
    model_run = home.pipeline_root("cartpole_qnet") / "RLTrainer" / "model_run"
    summary = json.loads(next(model_run.glob("*/summary.json")).read_text())
    steps = [step for step, _ in summary["history"]]
    # An evaluation runs at the first lock-step batch (32 envs) at or past every 2000 steps.
    assert steps == [-(-due // 32) * 32 for due in range(2000, summary["env_steps"] + 1, 2000)]
    assert summary["env_steps"] == 24000 or summary["steps_to_target"] == summary["env_steps"]
