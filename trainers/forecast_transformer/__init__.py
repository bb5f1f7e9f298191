"""A time-series transformer: weather_transformer (hourly temperatures) and stocks_transformer."""
