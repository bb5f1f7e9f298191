"""Forecasting features, declared as data (each task's curated schema must match)."""

WINDOW = "window"  # raw float feature: the last `length` values of the series, oldest first
TARGET = "target"  # raw float feature: the next value, what the model forecasts
LAST = "last"  # transformed only: the window's last value in the series' units
