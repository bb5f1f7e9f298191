"""A fit killed mid-way resumes in the next attempt's folder from the epoch it had finished."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
import tensorflow as tf

from trainers.common import resume

X = np.random.default_rng(0).random((32, 2)).astype("float32")
Y = X.sum(axis=1, keepdims=True)


class Die(tf.keras.callbacks.Callback):
    """Raises after `epoch` (0-based) as a SIGKILL would stop the fit: the backup stays."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class Epochs(tf.keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)


def _fit(model_run_dir, *extra):
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse")
    backup = tf.keras.callbacks.BackupAndRestore(os.path.join(model_run_dir, resume.BACKUP))
    model.fit(X, Y, epochs=6, verbose=0, callbacks=[backup, *extra])


def _args(**changes):
    values = dict(train_files=["t"], eval_files=["e"], custom_config={"k": 1}, train_steps=60)
    return types.SimpleNamespace(**{**values, **changes})


def test_the_next_attempt_resumes_after_the_epoch_the_killed_one_finished(tmp_path):
    key = resume.fingerprint(_args())
    first = str(tmp_path / "model_run" / "7")
    assert resume.adopt(first, key) is None  # nothing to resume yet
    with pytest.raises(KeyboardInterrupt):
        _fit(first, Die(epoch=2))
    assert resume.saved_epoch(os.path.join(first, resume.BACKUP)) == 2

    second = str(tmp_path / "model_run" / "9")
    assert resume.adopt(second, key) == first
    epochs = Epochs()
    _fit(second, epochs)
    assert epochs.seen == [3, 4, 5]  # not from 0
    assert resume.saved_epoch(os.path.join(second, resume.BACKUP)) is None  # dropped at the end


def test_another_configuration_or_a_finished_attempt_is_not_resumed(tmp_path):
    first = str(tmp_path / "model_run" / "7")
    resume.adopt(first, resume.fingerprint(_args()))
    with pytest.raises(KeyboardInterrupt):
        _fit(first, Die(epoch=1))
    other = resume.fingerprint(_args(train_steps=90))
    assert resume.adopt(str(tmp_path / "model_run" / "8"), other) is None
    done = str(tmp_path / "model_run" / "9")
    resume.adopt(done, other)
    _fit(done)
    assert resume.adopt(str(tmp_path / "model_run" / "10"), other) is None  # nothing left
