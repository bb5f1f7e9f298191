"""A worse model is never pushed: a blessed model, then a worse one that only the baseline refuses.

The absolute threshold is lowered to 0 for the worse run, and its budget is one measured to
beat the naive predictor, so the comparison with the latest blessed model is what refuses it:
not blessed, nothing pushed, the serving folder byte for byte as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.e2e.helpers import kfx

pytestmark = pytest.mark.e2e

# A DQN budget whose policy beats the random one but not the 3,000-step policy (40 vs 147
# mean return on the gate's episodes, measured).
RL = ("--set", "learning_starts=500", "--set", "eval_every=1000", "--eval-episodes", "10")


def tree_digest(folder: Path) -> str:
    """A digest of every file's path and bytes under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _refused_by_the_baseline_only(summary: dict) -> None:
    gate = summary["gate"]
    assert summary["blessed"] is False and summary["pushed_model"] is None
    assert gate["passed"] is False and gate["baseline"] is not None
    assert "worse than the blessed baseline" in gate["reason"]
    assert "naive" not in gate["reason"] and "threshold" not in gate["reason"], gate["reason"]
    assert gate["value"] > gate["naive"] + gate["margin"] and gate["threshold"] == 0.0


def test_a_worse_penguin_model_is_refused_by_the_baseline_and_nothing_is_pushed(tmp_path):
    good = kfx(tmp_path, "run", "penguin", "--train-steps", "300", "--json")
    assert good.code == 0 and good.json["blessed"] is True, good.err
    serving = tmp_path / "serving" / "penguin"
    before = tree_digest(serving)

    # 20 steps: 0.978 on the test split against the blessed model's 1.0 (measured).
    worse = kfx(tmp_path, "run", "penguin", "--train-steps", "20", "--threshold", "0", "--json")
    assert worse.code == 0, worse.err
    _refused_by_the_baseline_only(worse.json)
    assert worse.json["gate"]["baseline"] == good.json["value"]
    assert "NOT BLESSED" in worse.out and "why: accuracy" in worse.out
    assert tree_digest(serving) == before


def test_a_worse_policy_is_refused_by_the_baseline_and_nothing_is_pushed(tmp_path):
    # A gate a 3,000-step policy can pass; `make bench` measures the real one.
    good = kfx(
        tmp_path, "run", "cartpole_dqn", "--train-steps", "3000", *RL, "--threshold", "5", "--json"
    )
    assert good.code == 0 and good.json["blessed"] is True, good.err
    serving = tmp_path / "serving" / "cartpole_dqn"
    before = tree_digest(serving)

    args = ("--threshold", "0", "--json")
    worse = kfx(tmp_path, "run", "cartpole_dqn", "--train-steps", "2000", *RL, *args)
    assert worse.code == 0, worse.err
    _refused_by_the_baseline_only(worse.json)

    one_step = kfx(tmp_path, "run", "cartpole_dqn", "--train-steps", "1", *RL, *args)
    assert one_step.code == 0 and one_step.json["blessed"] is False, one_step.err
    assert "worse than the blessed baseline" in one_step.json["gate"]["reason"]
    assert tree_digest(serving) == before
