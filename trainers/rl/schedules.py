"""Exploration schedules."""

from __future__ import annotations


def linear_schedule(start: float, end: float, duration: float, t: float) -> float:
    """Linear interpolation from `start` at t=0 to `end` at t=`duration`, then constant.

    Args:
        start: Value at t = 0.
        end: Value from t = `duration` on.
        duration: Length of the ramp (a non-positive duration gives `end` at once).
        t: Current time (e.g. environment steps done).

    Returns:
        The scheduled value at `t`.

    """
    if duration <= 0:
        return end
    slope = (end - start) / duration
    return max(slope * t + start, end) if end <= start else min(slope * t + start, end)
