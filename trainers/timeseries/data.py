"""Series → window tf.Examples in given splits (`train/`, `eval/`, `test/`), one file each."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from trainers.common.records import FILENAME, examples, write_splits
from trainers.timeseries import windows
from trainers.timeseries.features import TARGET, WINDOW

__all__ = ["FILENAME", "to_example", "write", "read"]


def to_example(window, target: float | None = None) -> bytes:
    """One serialized tf.Example: the float `window` and, unless None, the float `target`."""
    import tensorflow as tf

    floats = lambda v: tf.train.Feature(float_list=tf.train.FloatList(value=v))  # noqa: E731
    feature = {WINDOW: floats(np.asarray(window, np.float32).reshape(-1))}
    if target is not None:
        feature[TARGET] = floats([float(target)])
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(dest_dir: Path, series: Iterable, length: int, limit: int = 0) -> Path:
    """Windows every series, splits each in time and writes the three splits.

    Args:
        dest_dir: the span folder being created.
        series: the series (1-D arrays); each is split on its own, so every split holds
            the same stretch of time of every series.
        length: values per window.
        limit: keep the first `limit` windows of each split (0: all); tests use a few.

    Returns:
        `dest_dir`.
    """
    parts: dict[str, list] = {name: [] for name in windows.FRACTIONS}
    for values in series:
        for name, pair in windows.split(*windows.windows(values, length)).items():
            parts[name].append(pair)
    records = {}
    for name, pairs in parts.items():
        inputs = np.concatenate([x for x, _ in pairs])
        targets = np.concatenate([y for _, y in pairs])
        if limit:
            inputs, targets = inputs[: int(limit)], targets[: int(limit)]
        records[name] = map(to_example, inputs, targets)
    return write_splits(dest_dir, records)


def read(path: Path | str) -> Iterator[tuple[np.ndarray, float | None]]:
    """(window, target or None) of each tf.Example in a TFRecord file."""
    for feature in examples(path):
        target = list(feature[TARGET].float_list.value) if TARGET in feature else []
        yield np.asarray(feature[WINDOW].float_list.value), (target[0] if target else None)
