import numpy as np

from components import policy_evaluator as pe


def test_a_policy_beating_the_random_one_and_the_baseline_is_blessed():
    decision = pe.decision([500.0] * 10, [480.0] * 10, [20.0] * 10, threshold=400.0, margin=50)
    assert decision.passed and decision.main.naive == 20.0 and decision.main.baseline == 480.0


def test_worse_than_the_baseline_beyond_two_standard_errors_is_refused():
    rng = np.random.default_rng(0)
    baseline = rng.normal(450, 30, 100)
    noise = rng.normal(0, 10, 100)
    noise -= noise.mean()  # paired differences: mean exactly the shift, SE exactly 1
    worse = baseline - 20 + noise  # 20 lower: far beyond two standard errors
    close = baseline - 1 + noise  # 1 lower: within two standard errors (2.0)
    naive = np.full(100, 20.0)
    refused = pe.decision(worse, baseline, naive, threshold=100.0, margin=0.0)
    assert not refused.passed and "worse than the blessed baseline" in refused.reason
    assert pe.decision(close, baseline, naive, threshold=100.0, margin=0.0).passed


def test_a_policy_no_better_than_random_is_refused_even_below_a_low_threshold():
    decision = pe.decision([25.0] * 10, None, [22.0] * 10, threshold=0.0, margin=10.0)
    assert not decision.passed and "naive predictor (22) by 10" in decision.reason


def test_the_random_policy_plays_the_same_episodes_every_time():
    first = pe.random_returns("CartPole-v1", 5, 10_000)
    np.testing.assert_array_equal(first, pe.random_returns("CartPole-v1", 5, 10_000))
    assert 5 < first.mean() < 60  # CartPole's random policy lasts ~22 steps


def test_the_gate_judges_policies_stored_on_a_remote_filesystem():
    import pytest
    import tensorflow as tf

    from trainers.rl import export

    tf.keras.utils.set_random_seed(0)
    net = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    export.save_policy(net, "ram://policy-gate/candidate", "CartPole-v1")
    export.save_policy(net, "ram://policy-gate/baseline", "CartPole-v1")
    decision, report = pe.evaluate(
        "ram://policy-gate/candidate", "ram://policy-gate/baseline", "CartPole-v1", 0.0, 0.0, 3, 7
    )
    assert report["returns"] == report["baseline_returns"] and decision.main.baseline is not None
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        pe.evaluate("ram://policy-gate/absent", None, "CartPole-v1", 0.0, 0.0, 3, 7)
