"""What every forecasting task shares: window examples, the target and the last-value gate."""

from trainers.spec import TFRECORD, Lagged, TaskSpec
from trainers.timeseries.features import TARGET, WINDOW

LAST_VALUE = Lagged(WINDOW, 1)  # the naive forecast: tomorrow is today


def forecast_task(
    name: str, trainer: str, data: str, dataset: str, threshold: float, factor: float, **fields
) -> TaskSpec:
    """A regression on window examples, gated on RMSE ≤ `factor` × the last-value forecast's."""
    return TaskSpec(
        name=name,
        kind="supervised",
        trainer=trainer,
        data=data,
        data_format=TFRECORD,
        given_splits=True,
        preprocessing="trainers.timeseries.preprocessing",
        dataset=dataset,
        label=TARGET,
        problem="regression",
        metric="rmse",
        threshold=threshold,
        naive=LAST_VALUE,
        naive_factor=factor,
        schema=f"{name}/schema.pbtxt",
        **fields,
    )
