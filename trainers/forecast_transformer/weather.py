"""Hourly Seattle temperatures (vega_datasets' bundled seattle-temps, 2010): one series."""

from __future__ import annotations

from pathlib import Path

from trainers.forecast_transformer.features import WEATHER_LENGTH
from trainers.timeseries import data


def write(dest_dir: Path, limit: int = 0) -> Path:
    """Writes 48-hour windows of the 8,759 hourly temperatures (°F) in time-ordered splits."""
    from vega_datasets import data as vega

    temps = vega.seattle_temps()["temp"].to_numpy(dtype=float)
    return data.write(dest_dir, [temps], WEATHER_LENGTH, limit)
