"""weather_transformer (hourly temperatures) and stocks_transformer (monthly prices)."""

from trainers.timeseries.declaration import forecast_task

TASKS = (
    forecast_task(
        "weather_transformer",
        "trainers.forecast_transformer",
        "trainers.forecast_transformer.weather",
        "vega_datasets seattle-temps (8,759 hourly temperatures, 2010): 48-hour windows",
        threshold=0.5,
        factor=0.5,
        reason="least squares on the same windows reaches 0.098x the last value's RMSE (bench)",
        train_steps=3000,
        # 3e-3: 0.148x the last value; 1e-3 stopped at 0.213x (the linear part learns slowly).
        hparams={"steps_per_epoch": 150, "patience": 5, "learning_rate": 3e-3},
    ),
    forecast_task(
        "stocks_transformer",
        "trainers.forecast_transformer",
        "trainers.forecast_transformer.stocks",
        "vega_datasets stocks (5 tickers, monthly prices 2000-2010): 12-month windows",
        threshold=100.0,
        # Monthly prices are close to a random walk: the last value is hard to beat.
        factor=1.0,
        reason="a random walk's best forecast is the last value; least squares is 1.19x (bench)",
        train_steps=600,
        hparams={"steps_per_epoch": 30, "patience": 5, "batch_size": 32},
    ),
)
