"""The callbacks every Keras trainer uses, rooted in the run's model_run directory."""

from __future__ import annotations

import os

import tensorflow as tf

from trainers.common import progress, schedules

_SHOWN = ("loss", "val_loss")  # what the epoch bar shows beside the count


class EpochProgress(tf.keras.callbacks.Callback):
    """A progress bar over the fit's epochs (stderr; see trainers/common/progress.py)."""

    def __init__(self, desc: str = "training"):
        super().__init__()
        self.desc, self.bar = desc, None

    def on_train_begin(self, logs=None):
        """Opens the bar over `params['epochs']`."""
        self.bar = progress.Bar(self.params.get("epochs") or 0, self.desc, "epoch")

    def on_epoch_end(self, epoch, logs=None):
        """One more epoch, with its losses."""
        if self.bar is not None:
            shown = {k: float(v) for k, v in (logs or {}).items() if k in _SHOWN}
            self.bar.update(1, **shown)

    def on_train_end(self, logs=None):
        """Clears the bar (early stopping may end before the last epoch)."""
        if self.bar is not None:
            self.bar.close()


def standard(
    model_run_dir: str, patience: int, monitor: str = "val_loss", backup: bool = True
) -> list:
    """TensorBoard, EarlyStopping (best weights kept), ModelCheckpoint and BackupAndRestore.

    Args:
        model_run_dir: `fn_args.model_run_dir`; TensorBoard reads logs from here.
        patience: epochs without improvement of `monitor` before stopping.
        monitor: the validation quantity that decides early stopping and checkpoints.
        backup: whether to add BackupAndRestore (only `model.fit` resumes from its backup).

    """
    found = [
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
    ]
    if backup:
        found.append(tf.keras.callbacks.BackupAndRestore(os.path.join(model_run_dir, "backup")))
    return found


def for_run(log_dir: str | None, hp, total_steps: int, backup: bool = True) -> list:
    """Every callback of one fit: the LR logger, the schedule's own ones, then `standard`.

    Args:
        log_dir: where TensorBoard logs, checkpoints and backups go; None: none of those
            (`standard` left out), the schedule's callbacks only.
        hp: a `keras_trainer.FitParams` (the schedule and `patience`).
        total_steps: optimizer steps of the fit (ReduceLROnPlateau does not need them).
        backup: whether to add BackupAndRestore (see `standard`).

    """
    return [
        schedules.LearningRateLogger(),  # before TensorBoard, which then logs `epoch_lr`
        *schedules.make(hp, total_steps).callbacks,
        *(standard(log_dir, hp.patience, backup=backup) if log_dir else []),
        EpochProgress(),
    ]
