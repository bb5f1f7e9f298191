"""The sine_rnn task: forecast the next value of noisy sine waves with an RNN."""

from trainers.timeseries.declaration import forecast_task

TASK = forecast_task(
    "sine_rnn",
    "trainers.sine_rnn",
    "trainers.sine_rnn.data",
    "40 generated noisy sine waves (400 steps each, noise 0.05): 24-step windows",
    threshold=0.1,
    # MSE at most 0.1x the last value's: RMSE at most sqrt(0.1) = 0.316x.
    factor=0.316,
    reason="the noise (0.05) is the floor, 0.22x; least squares on the windows: 0.37x (bench)",
    train_steps=3000,
    hparams={"steps_per_epoch": 150, "patience": 5},
)
