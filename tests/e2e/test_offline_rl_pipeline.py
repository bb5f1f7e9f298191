"""Offline RL end to end: a pushed DQN's episodes → TrajectoryGen → Trainer (Decision
Transformer) → PolicyEvaluator → Pusher, with tiny budgets (make bench measures quality)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from pipelines import metadata
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, states
from trainers import manifest

pytestmark = pytest.mark.e2e

DQN = ("--train-steps", "3000", "--set", "learning_starts=500", "--eval-episodes", "10")
DT = ("--train-steps", "20", "--eval-episodes", "5", "--threshold", "5")
COMPONENTS = {
    "source_model_resolver",
    "TrajectoryGen",
    "Trainer",
    "baseline_model_resolver",
    "PolicyEvaluator",
    "Pusher",
    "Report",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("offline_rl_home"))


@pytest.fixture(scope="module")
def dqn(home):
    result = kfx(home.root, "run", "cartpole_dqn", *DQN, "--threshold", "5", "--json")
    assert result.code == 0 and result.json["blessed"], result.err
    return result.json


@pytest.fixture(scope="module")
def first(home, dqn):
    result = kfx(home.root, "run", "cartpole_dt", *DT, "--json")
    assert result.code == 0, result.err
    return result.json


def test_without_a_pushed_source_policy_it_says_what_to_run(tmp_path):
    result = kfx(tmp_path, "run", "cartpole_dt", *DT)
    assert result.code == 2
    assert "run `kfx run cartpole_dqn` first" in result.err
    assert len(result.err.strip().splitlines()) == 1


def _input_ids(home: Home, task: str, run_id: str, node: str) -> set[int]:
    """Ids of the artifacts `node` read in `run_id` (its MLMD INPUT events)."""
    with metadata.store(home) as mlmd:
        run = mlmd.get_context_by_type_and_name("pipeline_run", run_id)
        node_ctx = mlmd.get_context_by_type_and_name("node", f"{task}.{node}")
        runs = {e.id for e in mlmd.get_executions_by_context(run.id)}
        (execution,) = [e for e in mlmd.get_executions_by_context(node_ctx.id) if e.id in runs]
        events = mlmd.get_events_by_execution_ids([execution.id])
        return {e.artifact_id for e in events if e.type == e.INPUT}


def test_trajectories_come_from_the_pushed_dqn_policy(home, dqn, first):
    assert states(home.root, "cartpole_dt", first["run_id"]) == {c: "complete" for c in COMPONENTS}
    outputs = metadata.node_outputs(home, "cartpole_dqn", dqn["run_id"], "RLTrainer")
    (policy,) = [a for a in outputs if "/RLTrainer/model/" in a.uri]
    assert policy.id in _input_ids(home, "cartpole_dt", first["run_id"], "TrajectoryGen")
    (examples,) = metadata.node_outputs(home, "cartpole_dt", first["run_id"], "TrajectoryGen")
    stats = json.loads((home.root / examples.uri / "trajectory_stats.json").read_text())
    assert stats["episodes"] == 300 and stats["policy"] == policy.uri
    assert set(stats["by_epsilon"]) == {"0", "0.1", "0.2", "0.3", "0.5"}
    for split in ("train", "eval"):
        assert list((home.root / examples.uri / f"Split-{split}").glob("*.tfrecord.gz"))


def test_decision_transformer_is_evaluated_in_the_env_and_pushed(home, first):
    assert first["metric"] == "mean_return" and first["blessed"] is True
    versions = serving_versions(home.root, "cartpole_dt")
    assert versions and first["pushed_version"] in versions
    pushed = home.serving_dir("cartpole_dt") / first["pushed_version"]
    saved = manifest.read(str(pushed))
    assert saved.kind == manifest.EPISODIC_POLICY and saved.model["target_return"] == 500.0
    evaluation = home.pipeline_root("cartpole_dt") / "PolicyEvaluator" / "evaluation"
    report = json.loads(next(evaluation.glob("*/returns.json")).read_text())
    assert len(report["returns"]) == 5 and report["mean_return"] == pytest.approx(first["value"])


def test_predict_plays_the_rows_as_one_episode(home, first, tmp_path):
    rows = pd.DataFrame(
        {
            "obs_0": [0.0, 0.01, 0.02],
            "obs_1": [0.0, 0.2, 0.0],
            "obs_2": [0.01, 0.01, 0.0],
            "obs_3": [0.0, -0.3, 0.1],
            "reward": [1, 1, 1],
        }
    )
    source = tmp_path / "episode.csv"
    rows.to_csv(source, index=False)
    out = tmp_path / "actions.csv"
    result = kfx(home.root, "predict", "cartpole_dt", "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    actions = pd.read_csv(out)
    assert set(actions["prediction"]) <= {0, 1} and len(actions) == 3
    assert ((actions["score"] > 0.5) & (actions["score"] <= 1.0)).all()  # argmax probability
    rows.assign(reward=["x", 1, 1]).to_csv(source, index=False)
    failed = kfx(home.root, "predict", "cartpole_dt", "--input", str(source))
    assert failed.code == 2 and "reward" in failed.err


def test_repeated_run_is_cached(home, first):
    again = kfx(home.root, "run", "cartpole_dt", *DT, "--json")
    assert again.code == 0, again.err
    got = states(home.root, "cartpole_dt", again.json["run_id"])
    resolvers = {"source_model_resolver", "baseline_model_resolver"}
    assert {got.pop(r) for r in resolvers} == {"complete"} and set(got.values()) == {"cached"}


def test_same_seed_without_the_cache_gives_the_same_return(home, first):
    again = kfx(home.root, "run", "cartpole_dt", *DT, "--no-cache", "--json")
    assert again.code == 0, again.err
    got = states(home.root, "cartpole_dt", again.json["run_id"])
    assert set(got.values()) == {"complete"}
    # Tolerance 0 for the offline_rl kind (bench_determinism): the same episodes, the same fit.
    assert again.json["value"] == first["value"]
