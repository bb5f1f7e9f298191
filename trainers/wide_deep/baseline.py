"""The linear baseline wide_deep's gate is set from: least squares on the same features.

A linear regression on the same encoding as the wide part (numbers mean-imputed, origin and
origin × cylinders one-hot), fitted on ExampleGen's train split and scored on its eval split.
`tests/bench` reports it beside the Evaluator's RMSE; the task's threshold sits at it.
"""

from __future__ import annotations

import numpy as np

from trainers.wide_deep.features import CATEGORICAL, CROSS, LABEL, NUMERIC


def _design(frame, reference) -> np.ndarray:
    """Numbers (missing → the reference mean) and one-hot categories of `reference`'s values."""
    parts = [frame[c].astype(float).fillna(reference[c].astype(float).mean()) for c in NUMERIC]
    columns = [np.asarray(p, dtype=float) for p in parts]
    cross = frame[list(CROSS)].astype(str).agg("x".join, axis=1)
    known_cross = reference[list(CROSS)].astype(str).agg("x".join, axis=1)
    for values, known in [(frame[c].astype(str), reference[c].astype(str)) for c in CATEGORICAL] + [
        (cross, known_cross)
    ]:
        columns += [(values == v).to_numpy(dtype=float) for v in sorted(set(known))]
    return np.column_stack([np.ones(len(frame)), *columns])


def linear_rmse(train, evaluation) -> float:
    """Eval-split RMSE of ordinary least squares fitted on the train split (DataFrames)."""
    x, y = _design(train, train), train[LABEL].to_numpy(dtype=float)
    weights, *_ = np.linalg.lstsq(x, y, rcond=None)
    error = _design(evaluation, train) @ weights - evaluation[LABEL].to_numpy(dtype=float)
    return float(np.sqrt(np.mean(error**2)))
