"""Knowledge distillation with temperature (Hinton et al. 2015): the loss and a `Distiller`.

loss = α·CE(labels, student) + (1−α)·T²·KL(softmax(teacher/T) ‖ softmax(student/T))

The T² factor keeps the soft term's gradients on the scale of the hard term's when T changes.
"""

from __future__ import annotations

import tensorflow as tf

# Floor of probabilities before taking logs (a softmax can underflow to 0). Far below any
# probability that matters: at 1e-7 every class a confident teacher put under 1e-7 got the
# same logit, so its softened tail (what distillation passes on) was flat.
EPSILON = 1e-30


def logits_of(probabilities: tf.Tensor) -> tf.Tensor:
    """Logits (up to a per-row constant, which softmax ignores) of class probabilities."""
    return tf.math.log(tf.clip_by_value(tf.cast(probabilities, tf.float32), EPSILON, 1.0))


def distillation_loss(
    labels: tf.Tensor,
    student_logits: tf.Tensor,
    teacher_logits: tf.Tensor,
    alpha: float,
    temperature: float,
) -> tf.Tensor:
    """Mean over the batch of α·CE(labels) + (1−α)·T²·KL(teacher_T ‖ student_T).

    Args:
        labels: class ids [batch] or [batch, 1].
        student_logits: [batch, classes].
        teacher_logits: [batch, classes], in the student's class order.
        alpha: weight of the cross-entropy with the labels (1: no distillation).
        temperature: softening of both distributions in the KL term (T >= 1 softens).

    """
    student_logits = tf.cast(student_logits, tf.float32)
    hard = tf.keras.losses.sparse_categorical_crossentropy(
        tf.reshape(labels, [-1]), student_logits, from_logits=True
    )
    soft_teacher = tf.nn.softmax(tf.cast(teacher_logits, tf.float32) / temperature)
    log_student = tf.nn.log_softmax(student_logits / temperature)
    log_teacher = tf.math.log(tf.maximum(soft_teacher, EPSILON))
    kl = tf.reduce_sum(soft_teacher * (log_teacher - log_student), axis=-1)
    return tf.reduce_mean(alpha * hard + (1.0 - alpha) * temperature**2 * kl)


class Distiller(tf.keras.Model):
    """Trains `student` on labels and a frozen teacher's softened predictions.

    `student` maps inputs to logits; `teacher` maps the same inputs to logits (it is never
    trained). Validation scores the student alone: `loss` is its cross-entropy. `served` is
    what to export in the Distiller's place: a model sharing the student's layers (its
    probabilities); None: the student itself.
    """

    def __init__(self, student, teacher, alpha: float, temperature: float, served=None, **kwargs):
        super().__init__(**kwargs)
        self.student = student
        self.served = student if served is None else served
        self.teacher = teacher
        self.alpha = float(alpha)
        self.temperature = float(temperature)
        self.loss_tracker = tf.keras.metrics.Mean(name="loss")  # an epoch's mean, reset by fit

    def call(self, inputs, training=False):
        """The student's logits."""
        return self.student(inputs, training=training)

    def train_step(self, data):
        """One optimizer step on the distillation loss of the student's variables."""
        x, y = data
        teacher_logits = tf.stop_gradient(self.teacher(x))
        with tf.GradientTape() as tape:
            logits = self.student(x, training=True)
            loss = distillation_loss(y, logits, teacher_logits, self.alpha, self.temperature)
        variables = self.student.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return self._record(loss, y, logits)

    def test_step(self, data):
        """The student's cross-entropy and metrics on a validation batch."""
        x, y = data
        logits = self.student(x, training=False)
        loss = distillation_loss(y, logits, logits, 1.0, 1.0)
        return self._record(loss, y, logits)

    def _record(self, loss, y, logits) -> dict:
        self.loss_tracker.update_state(loss)
        self.compiled_metrics.update_state(y, tf.nn.softmax(tf.cast(logits, tf.float32)))
        return {m.name: m.result() for m in self.metrics}


class TeacherLogits(tf.keras.layers.Layer):
    """A frozen classifier's logits over the student's classes (its inputs picked by name)."""

    def __init__(self, teacher: tf.keras.Model, order, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.teacher = teacher
        self.teacher.trainable = False
        self.order = tf.constant(list(order), tf.int32)

    def call(self, inputs):
        """Logits of the teacher's probabilities, columns in the student's class order."""
        features = {k: inputs[k] for k in self.teacher.input_names}
        probabilities = self.teacher(features, training=False)  # no dropout, no augmentation
        return tf.gather(logits_of(probabilities), self.order, axis=-1)


def class_order(teacher_classes, student_classes) -> list[int]:
    """For each student class, the teacher's column of that class.

    Raises:
        ValueError: the teacher does not know one of the student's classes.

    """
    teacher = [str(c) for c in teacher_classes]
    missing = [str(c) for c in student_classes if str(c) not in teacher]
    if missing:
        raise ValueError(
            f"the teacher knows classes {teacher} but not {missing}: distil from a teacher "
            "trained on all of the student's classes"
        )
    return [teacher.index(str(c)) for c in student_classes]
