"""Monthly closing prices of five tickers, 2000–2010 (vega_datasets' bundled stocks)."""

from __future__ import annotations

from pathlib import Path

from trainers.forecast_transformer.features import STOCKS_LENGTH
from trainers.timeseries import data


def write(dest_dir: Path, limit: int = 0) -> Path:
    """Writes 12-month windows of each ticker, each split in time (one model for all five)."""
    from vega_datasets import data as vega

    frame = vega.stocks().sort_values(["symbol", "date"])
    series = [g["price"].to_numpy(dtype=float) for _, g in frame.groupby("symbol")]
    return data.write(dest_dir, series, STOCKS_LENGTH, limit)
