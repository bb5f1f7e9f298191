"""A custom training loop: tf.GradientTape steps, per-epoch validation, callback-like hooks."""

from __future__ import annotations

import math

import tensorflow as tf


class TensorBoardScalars(tf.keras.callbacks.Callback):
    """Writes each epoch's logs as TensorBoard scalars, laid out as Keras' TensorBoard does.

    Training values go to `LOG_DIR/train`, `val_*` values to `LOG_DIR/validation`, each as
    `epoch_<name>`, so `tensorboard --logdir model_run` shows the loop next to `fit` runs.
    """

    def __init__(self, log_dir: str):
        super().__init__()
        self.log_dir = log_dir
        self.writers = {}

    def on_train_begin(self, logs=None):
        """Opens one summary writer per side."""
        for side in ("train", "validation"):
            self.writers[side] = tf.summary.create_file_writer(f"{self.log_dir}/{side}")

    def on_epoch_end(self, epoch, logs=None):
        """One scalar per log value, at step `epoch`."""
        for key, value in (logs or {}).items():
            side, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            with self.writers[side].as_default():
                tf.summary.scalar(f"epoch_{name}", value, step=epoch)

    def on_train_end(self, logs=None):
        """Flushes and closes the writers."""
        for writer in self.writers.values():
            writer.close()


def train(
    model: tf.keras.Model,
    train_data: tf.data.Dataset,
    val_data: tf.data.Dataset,
    optimizer: tf.keras.optimizers.Optimizer,
    epochs: int,
    steps_per_epoch: int,
    patience: int,
    hooks: list | None = None,
) -> dict[str, list[float]]:
    """Trains a classifier with GradientTape steps; keeps the weights of the best val_loss.

    Args:
        model: maps a features dict to class probabilities; `model.losses` (regularisers)
            are added to the loss.
        train_data: (features, label) batches, repeated.
        val_data: (features, label) batches, read once per epoch.
        optimizer: applies the gradients.
        epochs: most epochs to run.
        steps_per_epoch: gradient steps between validations.
        patience: epochs without a lower val_loss before stopping early.
        hooks: Keras callbacks, driven through a `CallbackList` (epoch begin/end, train
            begin/end) with logs `loss`, `accuracy`, `val_loss`, `val_accuracy`.

    Returns:
        The per-epoch history of those logs.

    """
    cross_entropy = tf.keras.losses.SparseCategoricalCrossentropy()
    metrics = {
        "loss": tf.keras.metrics.Mean(),
        "accuracy": tf.keras.metrics.SparseCategoricalAccuracy(),
        "val_loss": tf.keras.metrics.Mean(),
        "val_accuracy": tf.keras.metrics.SparseCategoricalAccuracy(),
    }

    @tf.function
    def train_step(features, labels):
        with tf.GradientTape() as tape:
            probabilities = model(features, training=True)
            loss = cross_entropy(labels, probabilities)
            if model.losses:
                loss += tf.add_n(model.losses)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        metrics["loss"].update_state(loss)
        metrics["accuracy"].update_state(labels, probabilities)

    @tf.function
    def eval_step(features, labels):
        probabilities = model(features, training=False)
        metrics["val_loss"].update_state(cross_entropy(labels, probabilities))
        metrics["val_accuracy"].update_state(labels, probabilities)

    callbacks = tf.keras.callbacks.CallbackList(hooks or [], model=model)
    history: dict[str, list[float]] = {name: [] for name in metrics}
    best_loss, best_weights, waited = math.inf, None, 0
    batches = iter(train_data)
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for metric in metrics.values():
            metric.reset_state()
        for _ in range(steps_per_epoch):
            train_step(*next(batches))
        for features, labels in val_data:
            eval_step(features, labels)
        logs = {name: float(metric.result()) for name, metric in metrics.items()}
        for name, value in logs.items():
            history[name].append(value)
        callbacks.on_epoch_end(epoch, logs)
        if logs["val_loss"] < best_loss:
            best_loss, best_weights, waited = logs["val_loss"], model.get_weights(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    if best_weights is not None:
        model.set_weights(best_weights)
    callbacks.on_train_end(logs)
    return history
