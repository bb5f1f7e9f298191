"""Noisy sine waves, generated from a seed: each series its own period, amplitude and phase.

The course's first RNN example forecasts such series; here they are many long ones so that
the windows of each can be split in time (trainers/timeseries/windows.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from trainers.sine_rnn.features import LENGTH
from trainers.timeseries import data

PERIODS = (12.0, 40.0)  # steps per cycle, drawn uniformly per series
AMPLITUDES = (0.5, 1.5)


def series(n_series: int, steps: int, noise: float, seed: int) -> list[np.ndarray]:
    """`n_series` series of `steps` values: a·sin(2πt/p + φ) + N(0, noise²)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    found = []
    for _ in range(n_series):
        period, amplitude = rng.uniform(*PERIODS), rng.uniform(*AMPLITUDES)
        phase = rng.uniform(0, 2 * np.pi)
        clean = amplitude * np.sin(2 * np.pi * t / period + phase)
        found.append(clean + noise * rng.standard_normal(steps))
    return found


def write(
    dest_dir: Path,
    n_series: int = 40,
    steps: int = 400,
    noise: float = 0.05,
    seed: int = 7,
    limit: int = 0,
) -> Path:
    """Writes the window examples of `series(...)` in given splits into `dest_dir`."""
    return data.write(
        dest_dir, series(int(n_series), int(steps), float(noise), int(seed)), LENGTH, limit
    )
