import math

import numpy as np
import pytest
import tensorflow as tf

from components import gate


def _check(**fields):
    values = {"key": "accuracy", "value": 0.9, "higher_is_better": True, "threshold": 0.8}
    return gate.Check(**(values | fields))


def test_a_model_that_clears_all_three_parts_is_blessed():
    decision = gate.decide([_check(naive=0.4, margin=0.1, baseline=0.85)])
    assert decision.passed
    assert "clears 0.8" in decision.reason and "beats naive 0.4" in decision.reason


def test_each_part_alone_refuses():
    below = gate.decide([_check(value=0.7)])
    naive = gate.decide([_check(threshold=0.1, naive=0.85, margin=0.1)])
    worse = gate.decide([_check(threshold=0.1, baseline=0.95)])
    assert not below.passed and "misses the threshold >= 0.8" in below.reason
    assert not naive.passed and "does not beat the naive predictor (0.85) by 0.1" in naive.reason
    assert not worse.passed and "worse than the blessed baseline 0.95" in worse.reason


def test_lower_is_better_metrics_flip_every_bar():
    ok = _check(key="rmse", value=2.0, higher_is_better=False, threshold=3.0, naive=4.0, margin=1.0)
    assert gate.decide([ok]).passed
    assert not gate.decide([_check(**{**ok.__dict__, "naive": 2.5})]).passed  # 2.0 > 2.5 - 1
    assert not gate.decide([_check(**{**ok.__dict__, "baseline": 1.9})]).passed
    assert gate.decide([_check(**{**ok.__dict__, "baseline": 2.0})]).passed  # equal is not worse


def test_the_margin_is_strict_about_equality_at_the_bar():
    assert gate.decide([_check(value=0.5, threshold=0.0, naive=0.4, margin=0.1)]).passed
    assert not gate.decide([_check(value=0.4999, threshold=0.0, naive=0.4, margin=0.1)]).passed


def test_every_gated_output_must_pass_and_reported_ones_cannot_refuse():
    main = _check()
    aux = _check(key="aux/rmse", value=99.0, higher_is_better=False, threshold=None)
    failing = _check(key="b/accuracy", value=0.1, threshold=0.5)
    assert gate.decide([main, aux]).passed
    decision = gate.decide([main, aux, failing])
    assert not decision.passed and decision.reason.startswith("b/accuracy")


def test_a_missing_value_fails_closed():
    assert not gate.decide([_check(value=None)]).passed
    assert not gate.decide([_check(value=math.nan)]).passed


def test_a_gate_with_nothing_gated_is_refused():
    with pytest.raises(ValueError, match="no gated metric"):
        gate.decide([_check(threshold=None)])


def test_rl_noise_allowance_is_two_standard_errors_of_the_paired_difference():
    rng = np.random.default_rng(0)
    baseline = rng.normal(400, 50, 100)
    noise = rng.normal(0, 5, 100)
    slack = gate.paired_slack(baseline + noise - 1.0, baseline)
    assert slack == pytest.approx(2 * np.std(noise, ddof=1) / 10, rel=1e-9)
    close = gate.Check("mean_return", 399.5, True, 100.0, baseline=400.0, slack=slack)
    far = gate.Check("mean_return", 390.0, True, 100.0, baseline=400.0, slack=slack)
    assert gate.decide([close]).passed and not gate.decide([far]).passed
    assert gate.paired_slack([1.0], [2.0]) == 0.0


def test_identical_episodes_leave_no_slack():
    returns = [500.0] * 100
    assert gate.paired_slack(returns, returns) == 0.0
    assert not gate.decide([gate.Check("mean_return", 499.9, True, 0.0, baseline=500.0)]).passed


@pytest.mark.parametrize("root", ["ram://gate-test", None])
def test_the_decision_round_trips_beside_the_blessing(root, tmp_path):
    uri = f"{root}/blessing" if root else str(tmp_path / "blessing")
    decision = gate.decide([_check(naive=0.3, margin=0.05, baseline=None)])
    flat = gate.write(uri, decision)
    assert flat["blessed"] == 1 and flat[gate.GATED] == 1 and flat["gate_naive"] == 0.3
    assert "gate_baseline" not in flat
    assert tf.io.gfile.exists(f"{uri}/BLESSED")
    assert gate.read(uri) == decision
    assert gate.read(f"{uri}-absent") is None
