"""Resuming a Trainer killed mid-fit from the BackupAndRestore state its attempt left.

A TFX Trainer run again after a crash is a new execution with a new `model_run` folder, so
Keras' BackupAndRestore, which resumes from its own folder, would start over. Each attempt
writes a fingerprint of what it trains (data, configuration, budget, base model) into its
`model_run`; before fitting, an attempt whose own backup is empty copies in the backup of
the newest sibling attempt with the same fingerprint. Keras deletes a backup when its fit
ends, so only an attempt that died mid-fit leaves one.
"""

from __future__ import annotations

import hashlib
import json
import os

import tensorflow as tf
from absl import logging

FILE = "resume.json"  # in model_run: the attempt's fingerprint
BACKUP = "backup"  # the folder name BackupAndRestore writes to (callbacks.standard)
_EPOCH = "ckpt_saved_epoch/.ATTRIBUTES/VARIABLE_VALUE"  # Keras' last finished epoch


def fingerprint(fn_args) -> str:
    """What decides the fit: same data, configuration and budget mean the same training."""
    parts = {
        name: getattr(fn_args, name, None)
        for name in (
            "train_files",
            "eval_files",
            "transform_output",
            "custom_config",
            "train_steps",
            "hyperparameters",
            "base_model",
        )
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _backups(model_run_dir: str) -> list[str]:
    """The backup folders under one attempt's model_run (one per phase), relative to it."""
    found = []
    for root, dirs, _ in tf.io.gfile.walk(model_run_dir):
        if os.path.basename(root) == BACKUP and (dirs or tf.io.gfile.listdir(root)):
            found.append(os.path.relpath(root, model_run_dir))
    return found


def saved_epoch(backup_dir: str) -> int | None:
    """The last epoch a backup finished (0-based), or None if it holds no checkpoint."""
    for root, _, _ in tf.io.gfile.walk(backup_dir):
        checkpoint = tf.train.latest_checkpoint(root)
        if checkpoint:
            return int(tf.train.load_variable(checkpoint, _EPOCH))
    return None


def adopt(model_run_dir: str, key: str) -> str | None:
    """Records `key`; copies an unfinished same-key attempt's backups in. Returns its folder."""
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(os.path.join(model_run_dir, FILE), "w") as handle:
        handle.write(json.dumps({"fingerprint": key}))
    if _backups(model_run_dir):
        return None  # this attempt's own backup: Keras resumes from it by itself
    parent, own = os.path.split(model_run_dir.rstrip("/"))
    attempts = []
    for name in tf.io.gfile.listdir(parent):
        name = name.rstrip("/")
        folder = os.path.join(parent, name)
        marker = os.path.join(folder, FILE)
        if name == own or not tf.io.gfile.exists(marker):
            continue
        with tf.io.gfile.GFile(marker) as handle:
            if json.load(handle).get("fingerprint") == key and _backups(folder):
                attempts.append((int(name) if name.isdigit() else -1, folder))
    if not attempts:
        return None
    _, source = max(attempts)
    for relative in _backups(source):
        _copy_tree(os.path.join(source, relative), os.path.join(model_run_dir, relative))
    epoch = saved_epoch(os.path.join(source, BACKUP))
    logging.info(
        "resume: the fit continues after epoch %s of the unfinished attempt %s",
        "?" if epoch is None else epoch + 1,
        source,
    )
    return source


def _copy_tree(source: str, destination: str) -> None:
    for root, _, files in tf.io.gfile.walk(source):
        target = os.path.join(destination, os.path.relpath(root, source))
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(root, name), os.path.join(target, name), overwrite=True)
