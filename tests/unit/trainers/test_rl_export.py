"""The policy export contract for any discrete policy network, not only Q-networks."""

import numpy as np
import pytest
import tensorflow as tf

from trainers import manifest
from trainers.rl import envs, export, qnet

OBS = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)


def softmax_policy(seed: int = 0, activation: str | None = "softmax") -> tf.keras.Model:
    """A tiny policy-gradient style network: observations → action probabilities (or logits)."""
    inputs = tf.keras.Input(shape=(4,), name="observations")
    init = tf.keras.initializers.GlorotUniform(seed=seed)
    hidden = tf.keras.layers.Dense(8, activation="tanh", kernel_initializer=init)(inputs)
    out = tf.keras.layers.Dense(2, activation=activation, kernel_initializer=init)(hidden)
    return tf.keras.Model(inputs, out, name="softmax_policy")


def _outputs(path) -> set[str]:
    return set(tf.saved_model.load(path).signatures["serving_default"].structured_outputs)


def test_a_softmax_policy_exports_action_score_and_probabilities(tmp_path):
    model = softmax_policy()
    path = str(tmp_path / "pg")
    export.save_policy(model, path, "CartPole-v1", outputs="probabilities")
    assert _outputs(path) == {"action", "score", "probabilities"}  # no q_values
    out = tf.saved_model.load(path).signatures["serving_default"](observations=tf.constant(OBS))
    probabilities = model(OBS).numpy()
    assert out["action"].dtype == tf.int64 and out["score"].dtype == tf.float32
    np.testing.assert_array_equal(out["action"].numpy(), probabilities.argmax(axis=1))
    np.testing.assert_allclose(out["score"].numpy(), probabilities.max(axis=1), rtol=1e-6)
    np.testing.assert_allclose(out["probabilities"].numpy(), probabilities, rtol=1e-6)
    policy = export.load_policy(path)
    np.testing.assert_array_equal(policy(OBS), probabilities.argmax(axis=1))
    returns = envs.evaluate(policy, "CartPole-v1", 3, 0)
    assert returns.shape == (3,) and (returns >= 1).all()
    for saved, original in zip(export.load_weights(path), model.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, original)


def test_logits_score_the_softmax_probability(tmp_path):
    model = softmax_policy(activation=None)
    export.save_policy(model, str(tmp_path / "logits"), outputs="logits")
    assert _outputs(str(tmp_path / "logits")) == {"action", "score", "logits"}
    serve = tf.saved_model.load(str(tmp_path / "logits")).signatures["serving_default"]
    out = serve(observations=tf.constant(OBS))
    np.testing.assert_allclose(
        out["score"].numpy(), tf.nn.softmax(model(OBS)).numpy().max(axis=1), rtol=1e-6
    )


def test_q_networks_score_the_max_q_value(tmp_path):
    model = qnet.build_qnet(4, 3, (8,), seed=1)
    export.save_policy(model, str(tmp_path / "q"))
    assert _outputs(str(tmp_path / "q")) == {"action", "score", "q_values"}
    serve = tf.saved_model.load(str(tmp_path / "q")).signatures["serving_default"]
    np.testing.assert_allclose(
        serve(observations=tf.constant(OBS))["score"].numpy(), model(OBS).numpy().max(axis=1)
    )


def test_unknown_outputs_are_rejected_before_writing(tmp_path):
    with pytest.raises(ValueError, match="advantages"):
        export.save_policy(softmax_policy(), str(tmp_path / "x"), outputs="advantages")
    assert not (tmp_path / "x").exists()


def test_warm_start_reads_exports_from_before_the_rename(tmp_path):
    model = qnet.build_qnet(4, 2, (8,), seed=2)
    module = tf.Module()
    module.q_weights = list(model.weights)  # what older exports kept
    tf.saved_model.save(module, str(tmp_path / "old"))
    for saved, original in zip(
        export.load_weights(str(tmp_path / "old")), model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(saved, original)


def test_policy_manifest_round_trips_on_ram_filesystem():
    expected = export.policy_manifest("CartPole-v1", 4, 2, "probabilities")
    manifest.write("ram://export_test/policy", expected)
    found = manifest.read("ram://export_test/policy")
    assert found == expected and found.kind == manifest.POLICY and found.score == "probability"
    assert list(found.features) == ["obs_0", "obs_1", "obs_2", "obs_3"] and found.actions == 2
    assert export.policy_manifest("CartPole-v1", 4, 2, "q_values").score == "q_value"
