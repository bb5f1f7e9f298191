"""Distillation: a tiny MLP student learns from the labels and a pushed CNN teacher.

The teacher is the source task's newest pushed model (the Trainer's `base_model`, resolved
through MLMD), loaded as a Keras model and fed the same transformed features as the student.
Only the student is exported. `--set alpha=1` trains the same student on the labels alone.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from trainers import manifest
from trainers.common import backbones, distillation, images, keras_run, keras_trainer


@dataclasses.dataclass(frozen=True)
class HParams(keras_trainer.FitParams):
    """Distillation hyper-parameters: the student's size, α and the temperature."""

    batch_size: int = 64
    """Examples per training batch."""
    learning_rate: float = 3e-3
    """Adam's learning rate."""
    alpha: float = 0.1
    """Weight of the cross-entropy with the labels; 1 - alpha goes to the teacher's KL term."""
    temperature: float = 4.0
    """Softening of teacher and student distributions in the KL term."""
    units: int = 32
    """Width of each hidden layer of the student."""
    layers: int = 1
    """Hidden Dense-ReLU layers of the student."""
    name: str = "distill"
    """Model name."""

    def __post_init__(self):
        """Rejects an alpha outside [0, 1] and a non-positive temperature."""
        super().__post_init__()
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha={self.alpha}: must be in [0, 1]")
        if self.temperature <= 0:
            raise ValueError(f"temperature={self.temperature}: must be positive")


def build_student(ctx: keras_trainer.Context, hp: HParams) -> tuple[tf.keras.Model, tf.keras.Model]:
    """The student (inputs → probabilities, what is exported) and its logits model.

    Both share every layer; the logits model is what the Distiller trains.
    """
    if ctx.problem != "classification":
        raise ValueError("distillation needs a classification task")
    inputs, image = images.image_input(ctx.features)
    x = tf.keras.layers.Flatten(name="flatten")(image)
    for i in range(hp.layers):
        x = tf.keras.layers.Dense(
            hp.units, activation="relu", kernel_initializer="he_normal", name=f"hidden{i}"
        )(x)
    logits = tf.keras.layers.Dense(ctx.n_classes, name="logits", dtype="float32")(x)
    probabilities = tf.keras.layers.Softmax(name="output", dtype="float32")(logits)
    student = tf.keras.Model(inputs, probabilities, name=hp.name)
    return student, tf.keras.Model(inputs, logits, name=f"{hp.name}_logits")


def teacher_classes(model_uri: str) -> list[str]:
    """The class names of a pushed classifier, from its manifest (signatures.export)."""
    folder = backbones.serving_dir(model_uri)
    classes = manifest.read(folder).classes
    if not classes:
        raise ValueError(f"{folder}: the teacher is not a classifier (no classes)")
    return list(classes)


def distiller(ctx, hp: HParams, student_logits, teacher_uri: str, student_classes, served=None):
    """A compiled Distiller of `student_logits` and the teacher pushed at `teacher_uri`."""
    order = distillation.class_order(teacher_classes(teacher_uri), student_classes)
    teacher = distillation.TeacherLogits(backbones.load_pushed(teacher_uri), order)
    model = distillation.Distiller(student_logits, teacher, hp.alpha, hp.temperature, served)
    model.compile(
        optimizer=keras_trainer.optimizer(hp, ctx, student_logits),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def build(ctx: keras_trainer.Context, hp: HParams) -> distillation.Distiller:
    """The compiled Distiller of a new student and the teacher (the Trainer's base_model)."""
    student, logits = build_student(ctx, hp)
    return distiller(ctx, hp, logits, ctx.base_model, ctx.classes, served=student)


def student(model: distillation.Distiller) -> tf.keras.Model:
    """What is exported: the student's probabilities, not the Distiller (nor the teacher)."""
    return model.served


# The base model is the teacher `build` loads, not a warm start.
RECIPE = keras_run.Recipe(HParams(), build, exported=student, warm_start=None)


# TFX Trainer calls this.
def run_fn(fn_args):
    """Distils the teacher (the Trainer's base_model) into the student; exports the student."""
    if not fn_args.base_model:
        raise ValueError("distill needs the teacher: the source task's model as base_model")
    keras_run.run(fn_args, RECIPE)
