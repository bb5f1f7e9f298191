"""A custom training loop: tf.GradientTape steps and per-epoch validation, driven by callbacks.

The loop owns only the steps; everything around them is Keras callbacks, the same ones `fit`
gets in every other trainer (`callbacks.for_run`): TensorBoard, EarlyStopping with the best
weights, ModelCheckpoint, ReduceLROnPlateau, the learning-rate logger.
"""

from __future__ import annotations

import tensorflow as tf


def _step_functions(model: tf.keras.Model, metrics: dict):
    """The tf.functions of one training step and one validation step."""
    cross_entropy = tf.keras.losses.SparseCategoricalCrossentropy()
    optimizer = model.optimizer
    scaled = isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer)

    @tf.function
    def train_step(features, labels):
        with tf.GradientTape() as tape:
            probabilities = model(features, training=True)
            loss = cross_entropy(labels, probabilities)
            if model.losses:
                loss += tf.add_n(model.losses)
            # float16 gradients underflow without loss scaling (mixed_float16).
            objective = optimizer.get_scaled_loss(loss) if scaled else loss
        gradients = tape.gradient(objective, model.trainable_variables)
        if scaled:
            gradients = optimizer.get_unscaled_gradients(gradients)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        metrics["loss"].update_state(loss)
        metrics["accuracy"].update_state(labels, probabilities)

    @tf.function
    def eval_step(features, labels):
        probabilities = model(features, training=False)
        metrics["val_loss"].update_state(cross_entropy(labels, probabilities))
        metrics["val_accuracy"].update_state(labels, probabilities)

    return train_step, eval_step


def train(
    model: tf.keras.Model,
    train_data: tf.data.Dataset,
    val_data: tf.data.Dataset,
    epochs: int,
    steps_per_epoch: int,
    callbacks: list | tuple = (),
) -> dict[str, list[float]]:
    """Trains a compiled classifier with GradientTape steps, driven by Keras callbacks.

    The optimizer is the one `model.compile` made, so a learning-rate schedule applies and,
    under mixed_float16, its LossScaleOptimizer scales the loss. Callbacks are called
    through a `tf.keras.callbacks.CallbackList` as `fit` calls them (train, epoch and
    train-batch hooks; no test hooks) with logs `loss`, `accuracy`, `val_loss` and
    `val_accuracy`; the loop stops when one sets `model.stop_training` (EarlyStopping,
    which also restores the best weights at the end).

    BackupAndRestore cannot work here: it resumes through `fit`'s own epoch bookkeeping,
    which this loop does not have; leave it out of `callbacks`.

    Args:
        model: maps a features dict to class probabilities, compiled with its optimizer;
            `model.losses` (regularisers) are added to the loss.
        train_data: (features, label) batches, repeated.
        val_data: (features, label) batches, read once per epoch.
        epochs: most epochs to run.
        steps_per_epoch: gradient steps between validations.
        callbacks: Keras callbacks.

    Returns:
        The per-epoch history of those logs.

    """
    metrics = {
        "loss": tf.keras.metrics.Mean(),
        "accuracy": tf.keras.metrics.SparseCategoricalAccuracy(),
        "val_loss": tf.keras.metrics.Mean(),
        "val_accuracy": tf.keras.metrics.SparseCategoricalAccuracy(),
    }
    train_step, eval_step = _step_functions(model, metrics)
    hooks = tf.keras.callbacks.CallbackList(
        list(callbacks),
        add_history=False,
        add_progbar=False,
        model=model,
        epochs=epochs,
        steps=steps_per_epoch,
        verbose=0,
    )
    history: dict[str, list[float]] = {name: [] for name in metrics}
    logs: dict[str, float] = {}
    batches = iter(train_data)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(epochs):
        hooks.on_epoch_begin(epoch)
        for metric in metrics.values():
            metric.reset_state()
        for step in range(steps_per_epoch):
            hooks.on_train_batch_begin(step)
            train_step(*next(batches))
            hooks.on_train_batch_end(step)
        for features, labels in val_data:
            eval_step(features, labels)
        logs = {name: float(metric.result()) for name, metric in metrics.items()}
        for name, value in logs.items():
            history[name].append(value)
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end(logs)
    return history
