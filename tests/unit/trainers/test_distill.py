"""Distillation: the loss by hand, the Distiller's train step, the student and the teacher."""

import numpy as np
import pytest
import tensorflow as tf

from trainers import manifest
from trainers.common import distillation
from trainers.common.features import InputFeatures
from trainers.common.keras_trainer import Context
from trainers.distill import model as distill

IMAGES = InputFeatures(numeric=("pixels_xf",), categorical={}, shapes={"pixels_xf": (8, 8, 1)})
CTX = Context(IMAGES, "classification", n_classes=3)
LABELS = tf.constant([0, 2])
STUDENT = tf.constant([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]])
TEACHER = tf.constant([[1.0, 3.0, 0.0], [-2.0, 0.0, 2.0]])


def _ce(labels, logits) -> float:
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return float(np.mean(-np.log(probs[np.arange(len(labels)), labels])))


def _kl(teacher, student, t) -> float:
    p = np.exp(teacher / t) / np.exp(teacher / t).sum(-1, keepdims=True)
    q = np.exp(student / t) / np.exp(student / t).sum(-1, keepdims=True)
    return float(np.mean((p * np.log(p / q)).sum(-1)))


def test_alpha_one_temperature_one_is_plain_cross_entropy():
    loss = distillation.distillation_loss(LABELS, STUDENT, TEACHER, alpha=1.0, temperature=1.0)
    assert float(loss) == pytest.approx(_ce(LABELS.numpy(), STUDENT.numpy()), rel=1e-6)
    keras_ce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, STUDENT)
    assert float(loss) == pytest.approx(float(keras_ce), rel=1e-6)


def test_kl_term_is_zero_when_student_equals_teacher():
    loss = distillation.distillation_loss(LABELS, STUDENT, STUDENT, alpha=0.0, temperature=3.0)
    assert float(loss) == pytest.approx(0.0, abs=1e-6)


def test_mixed_loss_matches_the_formula_by_hand():
    alpha, t = 0.3, 2.0
    loss = distillation.distillation_loss(LABELS, STUDENT, TEACHER, alpha, t)
    s, te = STUDENT.numpy(), TEACHER.numpy()
    expected = alpha * _ce(LABELS.numpy(), s) + (1 - alpha) * t**2 * _kl(te, s, t)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_a_confident_teachers_tail_keeps_its_order_after_softening():
    logits = tf.constant([[30.0, 8.0, 0.0, -6.0]])  # p ≈ 1, 3e-10, 9e-14, 2e-16
    recovered = distillation.logits_of(tf.nn.softmax(logits))
    assert np.allclose(recovered - recovered[0, 0], logits - logits[0, 0], atol=1e-3)
    soft = tf.nn.softmax(recovered / 4.0).numpy()[0]
    assert soft[1] > soft[2] > soft[3]  # a floor at 1e-7 made these three equal


def test_class_order_maps_teacher_columns_to_student_classes():
    assert distillation.class_order(["3", "1", "2"], ["1", "2", "3"]) == [1, 2, 0]
    with pytest.raises(ValueError, match=r"not \['9'\]"):
        distillation.class_order(["1", "2"], ["1", "9"])


def test_teacher_logits_reorder_columns_and_ignore_augmentation():
    inputs = tf.keras.Input((8, 8, 1), name="pixels_xf")
    x = tf.keras.layers.RandomTranslation(0.3, 0.3, seed=1)(inputs)
    x = tf.keras.layers.Dense(3, activation="softmax")(tf.keras.layers.Flatten()(x))
    teacher = tf.keras.Model(inputs, x)
    layer = distillation.TeacherLogits(teacher, [2, 0, 1])
    image = {"pixels_xf": tf.random.uniform([4, 8, 8, 1], seed=5)}
    probs = teacher(image["pixels_xf"], training=False).numpy()
    got = layer(image).numpy()
    np.testing.assert_allclose(got, np.log(probs)[:, [2, 0, 1]], rtol=1e-5)
    np.testing.assert_allclose(layer(image), got)  # deterministic: inference mode
    assert not layer.trainable_variables


def test_student_is_small_and_exports_probabilities():
    student, logits = distill.build_student(CTX, distill.HParams(units=8))
    x = {"pixels_xf": tf.random.uniform([2, 8, 8, 1], seed=6)}
    np.testing.assert_allclose(student(x), tf.nn.softmax(logits(x)), rtol=1e-5)
    assert student.count_params() == 64 * 8 + 8 + 8 * 3 + 3
    assert {v.name for v in student.weights} == {v.name for v in logits.weights}


def test_distiller_train_step_reduces_the_loss_on_a_tiny_batch():
    tf.keras.utils.set_random_seed(0)
    hp = distill.HParams(units=16, learning_rate=1e-2, alpha=0.5, temperature=2.0)
    _, logits = distill.build_student(CTX, hp)
    t_in = tf.keras.Input((8, 8, 1), name="pixels_xf")
    t_out = tf.keras.layers.Dense(3, activation="softmax")(tf.keras.layers.Flatten()(t_in))
    teacher = distillation.TeacherLogits(tf.keras.Model(t_in, t_out), [0, 1, 2])
    model = distillation.Distiller(logits, teacher, hp.alpha, hp.temperature)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(hp.learning_rate),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    x = {"pixels_xf": tf.random.uniform([16, 8, 8, 1], seed=7)}
    y = tf.constant(np.arange(16) % 3)
    teacher_before = [w.copy() for w in teacher.get_weights()]
    history = model.fit(x, y, batch_size=16, epochs=30, verbose=0).history
    assert history["loss"][-1] < 0.8 * history["loss"][0]
    assert history["accuracy"][-1] > history["accuracy"][0]
    for old, new in zip(teacher_before, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # the teacher never trains
    evaluated = model.evaluate(x, y, verbose=0, return_dict=True)
    expected = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits(x))
    assert evaluated["loss"] == pytest.approx(float(expected), rel=1e-4)


def test_teacher_classes_come_from_the_pushed_manifest(tmp_path):
    (tmp_path / "saved_model.pb").write_bytes(b"")
    manifest.write(str(tmp_path), manifest.Manifest(manifest.EXAMPLES, {}, classes=["1", "0"]))
    assert distill.teacher_classes(str(tmp_path)) == ["1", "0"]
    manifest.write(str(tmp_path), manifest.Manifest(manifest.EXAMPLES, {}, classes=None))
    with pytest.raises(ValueError, match="not a classifier"):
        distill.teacher_classes(str(tmp_path))


def test_bad_settings_fail_with_the_fix():
    with pytest.raises(ValueError, match="alpha=1.5"):
        distill.HParams(alpha=1.5)
    with pytest.raises(ValueError, match="temperature=0"):
        distill.HParams(temperature=0.0)
    with pytest.raises(ValueError, match="classification"):
        distill.build_student(Context(IMAGES, "regression", 0), distill.HParams())
