"""The compiled Kubeflow YAML, executed: `kfx run TASK --runner kfp-local` through kfp.local.

Each run compiles the task for open-source Kubeflow Pipelines and runs every container task's
command (TFX's v2 entrypoint, through components/entrypoint.py) in this environment, with a
remote-style folder as pipeline root, data and push destination. Nothing is read from MLMD:
the second run finds the first run's model in the push folder, as a cluster would, and is
gated against it. Tiny steps: behaviour, not quality.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines import kfp_local
from tests.e2e.helpers import kfx, supervised_components
from tests.e2e.test_refusal import RL, tree_digest

pytestmark = pytest.mark.e2e

LOOKUP = "baseline_model_lookup"  # no resolvers on open-source KFP
POLICY = ["RLTrainer", LOOKUP, "PolicyEvaluator", "Pusher", "Report"]


def _run(home: Path, task: str, *flags: str) -> dict:
    result = kfx(home, "run", task, "--runner", "kfp-local", *flags, "--json")
    assert result.code == 0, result.err
    return result.json | {"out": result.out}


def _all_succeeded(run: dict, expected) -> None:
    assert run["failed"] is None
    assert sorted(run["tasks"]) == sorted(expected), run["tasks"]
    assert set(run["tasks"].values()) == {"SUCCESS"}


def _remote(home: Path) -> Path:
    return home / kfp_local.FOLDER


def test_penguin_runs_as_compiled_pushes_then_gates_a_worse_model_against_it(tmp_path):
    good = _run(tmp_path, "penguin", "--train-steps", "300")
    _all_succeeded(good, supervised_components(baseline=LOOKUP))
    assert good["blessed"] is True and good["decision"]["baseline"] is None
    serving = _remote(tmp_path) / "serving" / "penguin"
    assert good["pushed"] and Path(good["pushed"]).parent == serving
    assert (Path(good["pushed"]) / "saved_model.pb").is_file()
    assert "pushed model:" in good["out"]
    # The compiled file is the one a cluster would get: remote-style root, no home paths.
    package = Path(good["package"]).read_text()
    assert package.count(str(tmp_path)) == package.count(str(_remote(tmp_path))) > 0
    assert not (tmp_path / "metadata.sqlite").exists(), "kfp.local runs keep no local MLMD"
    before = tree_digest(serving)

    # A span that breaks the schema stops at the AnomalyGate, which moves it aside itself.
    frame = pd.read_csv(tmp_path / "data" / "penguin" / "span-1" / "data.csv")
    frame.loc[3, "island"] = "Atlantis"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    bad = kfx(
        tmp_path, "run", "penguin", "--runner", "kfp-local", "--data", str(tmp_path / "bad.csv")
    )
    assert bad.code == 3, bad.err
    assert "AnomalyGate failed" in bad.out and "Atlantis" in bad.out
    data = _remote(tmp_path) / "data" / "penguin"
    rejected = list(data.glob("rejected/span-2-*"))
    assert len(rejected) == 1 and not (data / "span-2").exists()
    assert "Atlantis" in (rejected[0] / "REJECTED.txt").read_text()
    assert tree_digest(serving) == before

    # Back on span 1. 20 steps: 0.978 on the test split against the pushed model's 1.0.
    worse = _run(tmp_path, "penguin", "--train-steps", "20", "--threshold", "0")
    _all_succeeded(worse, supervised_components(baseline=LOOKUP))
    decision = worse["decision"]
    assert decision["baseline"] == good["decision"]["value"]
    assert worse["blessed"] is False and worse["pushed"] is None
    assert "worse than the blessed baseline" in decision["reason"], decision["reason"]
    assert tree_digest(serving) == before


def test_a_tfrecord_image_task_runs_as_compiled_and_pushes(tmp_path):
    run = _run(tmp_path, "digits_mlp", "--train-steps", "50", "--threshold", "0.5")
    _all_succeeded(run, supervised_components("ImportExampleGen", LOOKUP))
    assert run["blessed"] is True and run["decision"]["baseline"] is None
    assert (Path(run["pushed"]) / "saved_model.pb").is_file()


def test_cartpole_dqn_runs_as_compiled_and_a_one_step_policy_is_refused(tmp_path):
    good = _run(tmp_path, "cartpole_dqn", "--train-steps", "3000", *RL, "--threshold", "5")
    _all_succeeded(good, POLICY)
    assert good["blessed"] is True and good["pushed"]
    serving = _remote(tmp_path) / "serving" / "cartpole_dqn"
    before = tree_digest(serving)

    worse = _run(tmp_path, "cartpole_dqn", "--train-steps", "1", *RL, "--threshold", "0")
    _all_succeeded(worse, POLICY)
    assert worse["decision"]["baseline"] == good["decision"]["value"]
    assert worse["blessed"] is False and worse["pushed"] is None
    assert "worse than the blessed baseline" in worse["decision"]["reason"]
    assert tree_digest(serving) == before


def test_kfp_local_refuses_what_a_compiled_run_cannot_take(tmp_path):
    result = kfx(tmp_path, "run", "--runner", "kfp-local", "--data", "x.csv", "--label", "y")
    assert result.code == 2
    assert "--runner kfp-local runs a registered task" in result.err
