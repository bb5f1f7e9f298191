"""The callbacks every Keras trainer uses, rooted in the run's model_run directory."""

from __future__ import annotations

import os

import tensorflow as tf


def standard(model_run_dir: str, patience: int, monitor: str = "val_loss") -> list:
    """TensorBoard, EarlyStopping (best weights kept), ModelCheckpoint and BackupAndRestore.

    Args:
        model_run_dir: `fn_args.model_run_dir`; TensorBoard reads logs from here.
        patience: epochs without improvement of `monitor` before stopping.
        monitor: the validation quantity that decides early stopping and checkpoints.

    """
    return [
        tf.keras.callbacks.TensorBoard(log_dir=model_run_dir, update_freq="epoch", profile_batch=0),
        tf.keras.callbacks.EarlyStopping(
            monitor=monitor, patience=patience, restore_best_weights=True
        ),
        tf.keras.callbacks.ModelCheckpoint(
            os.path.join(model_run_dir, "checkpoints", "best"),
            monitor=monitor,
            save_best_only=True,
            save_weights_only=True,
        ),
        tf.keras.callbacks.BackupAndRestore(os.path.join(model_run_dir, "backup")),
    ]
