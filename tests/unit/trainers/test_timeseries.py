"""Forecasting: windows and their time split, the window examples, the sine generator, models."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from trainers.common.features import InputFeatures, xf
from trainers.common.keras_trainer import Context
from trainers.sine_rnn import data as sine
from trainers.spec import Lagged, TaskSpec
from trainers.timeseries import data, forecast, windows
from trainers.timeseries.features import LAST, WINDOW


def test_each_window_is_the_past_and_its_target_the_next_value():
    inputs, targets = windows.windows(np.arange(10.0), 3)
    assert inputs.shape == (7, 3)
    np.testing.assert_array_equal(inputs[0], [0, 1, 2])
    np.testing.assert_array_equal(targets, np.arange(3.0, 10.0))
    np.testing.assert_array_equal(inputs[:, -1] + 1, targets)
    with pytest.raises(ValueError, match="no window of 10"):
        windows.windows(np.arange(10.0), 10)


def test_splits_are_consecutive_time_ranges_train_first():
    inputs, targets = windows.windows(np.arange(105.0), 5)
    parts = windows.split(inputs, targets)
    assert [len(parts[s][1]) for s in ("train", "eval", "test")] == [70, 15, 15]
    assert parts["train"][1].max() < parts["eval"][1].min() < parts["test"][1].min()
    # A test window's history reaches back into eval, its target never forward.
    assert parts["test"][0][0, 0] < parts["eval"][1].max()


def test_written_examples_read_back_per_split_and_series(tmp_path):
    series = [np.arange(30.0), 100 + np.arange(30.0)]
    data.write(tmp_path, series, length=4)
    train = list(data.read(tmp_path / "train" / data.FILENAME))
    test = list(data.read(tmp_path / "test" / data.FILENAME))
    assert len(train) == 2 * 18 and len(test) == 2 * 4
    np.testing.assert_array_equal(train[0][0], [0, 1, 2, 3]) and train[0][1] == 4
    assert [t for _, t in test] == [26, 27, 28, 29, 126, 127, 128, 129]
    data.write(tmp_path / "few", series, length=4, limit=3)
    assert len(list(data.read(tmp_path / "few" / "eval" / data.FILENAME))) == 3


def test_the_sine_generator_is_deterministic_per_seed():
    first, again, other = (sine.series(3, 50, 0.05, s) for s in (7, 7, 8))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(first[0], other[0])
    assert all(np.abs(s).max() < 1.5 + 0.5 for s in first)


def test_a_lagged_naive_forecast_needs_a_regression():
    fields = dict(
        name="t", kind="supervised", trainer="x", dataset="d", metric="rmse", threshold=1.0
    )
    spec = TaskSpec(**fields, problem="regression", label="y", naive={"feature": "w", "lag": 2})
    assert spec.naive == Lagged("w", 2) and spec.scored[0].naive == Lagged("w", 2)
    assert TaskSpec(**dataclasses.asdict(spec)) == spec  # the registry's JSON round trip
    with pytest.raises(ValueError, match="needs a regression"):
        TaskSpec(**{**fields, "metric": "accuracy"}, label="y", naive=Lagged("w"))


def _ctx(length: int = 8) -> Context:
    features = InputFeatures((xf(LAST), xf(WINDOW)), {}, {xf(WINDOW): (length,)})
    return Context(features, "regression", 0, label_mean=0.0, label_std=2.0, train_steps=10)


def _batch(length: int = 8):
    window = tf.random.stateless_uniform([4, length], seed=[1, 2])
    return {xf(WINDOW): window, xf(LAST): tf.constant([1.0, -2.0, 3.0, 0.5])}


def _models():
    from trainers.forecast_transformer import model as transformer
    from trainers.sine_rnn import model as rnn

    yield rnn.build(_ctx(), rnn.HParams(cell="lstm", units=8))
    yield rnn.build(_ctx(), rnn.HParams(cell="simple_rnn", units=8, layers=1))
    for kind in ("keras", "scratch"):
        yield transformer.build(_ctx(), transformer.HParams(dim=8, blocks=1, attention=kind))


@pytest.mark.parametrize("index", range(4))
def test_an_untrained_forecaster_is_exactly_the_last_value(index):
    model = list(_models())[index]
    out = model(_batch(), training=False).numpy()
    assert out.shape == (4, 1)
    np.testing.assert_allclose(out[:, 0], [1.0, -2.0, 3.0, 0.5])


def test_the_correction_is_scaled_by_the_label_spread():
    layer = forecast.LastValuePlus(2.0)
    out = layer(tf.constant([1.0]), tf.constant([[0.25]])).numpy()
    assert out.tolist() == [[1.5]]
    assert forecast.LastValuePlus.from_config(layer.get_config()).scale == 2.0


def test_unknown_cells_and_attention_are_refused_by_name():
    from trainers.forecast_transformer import model as transformer
    from trainers.sine_rnn import model as rnn

    with pytest.raises(ValueError, match="simple_rnn, lstm, gru"):
        rnn.HParams(cell="tcn")
    with pytest.raises(ValueError, match="keras, scratch"):
        transformer.HParams(attention="linear")
