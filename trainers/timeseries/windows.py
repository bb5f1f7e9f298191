"""Sliding windows of a series and their chronological split, built with tf.data.

A forecasting example is one window of past values and the value after it. Windows are cut
before ExampleGen: TFX shuffles and splits examples, which would scatter the steps of a raw
series. Each split is a time range — train first, then eval, then test — so no training
decision sees the test period, and a window's history may reach back into earlier splits
(it is the past) but its target never lies in a later one.
"""

from __future__ import annotations

import numpy as np

FRACTIONS = {"train": 0.70, "eval": 0.15, "test": 0.15}  # of each series' targets, in time order


def windows(series, length: int) -> tuple[np.ndarray, np.ndarray]:
    """(inputs [n, length], targets [n]) float32 of every window of `series` (n = len - length).

    Raises:
        ValueError: the series is not longer than a window.
    """
    import tensorflow as tf

    values = np.asarray(series, dtype=np.float32).reshape(-1)
    if len(values) <= length:
        raise ValueError(f"a series of {len(values)} values has no window of {length} + 1")
    data = tf.data.Dataset.from_tensor_slices(values)
    data = data.window(length + 1, shift=1, drop_remainder=True)
    data = data.flat_map(lambda w: w.batch(length + 1)).batch(4096)
    rows = np.concatenate(list(data.as_numpy_iterator()))
    return rows[:, :length], rows[:, length]


def split(inputs: np.ndarray, targets: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{train, eval, test: (inputs, targets)}: consecutive time ranges of one series' windows."""
    n = len(targets)
    cut_eval = int(round(n * FRACTIONS["train"]))
    cut_test = int(round(n * (FRACTIONS["train"] + FRACTIONS["eval"])))
    bounds = {"train": (0, cut_eval), "eval": (cut_eval, cut_test), "test": (cut_test, n)}
    return {name: (inputs[a:b], targets[a:b]) for name, (a, b) in bounds.items()}
