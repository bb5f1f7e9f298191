"""Window lengths of the two tasks (their schemas say the same)."""

WEATHER_LENGTH = 48  # hours: two daily cycles
STOCKS_LENGTH = 12  # months: one year
