import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from trainers.common import schedules
from trainers.common.keras_trainer import FitParams

LR = 0.1


def _hp(**changes):
    return dataclasses.replace(FitParams(learning_rate=LR), **changes)


def _rate(schedule, step):
    return float(schedule.learning_rate(tf.constant(step, tf.int64)))


def test_constant_is_a_plain_rate_without_callbacks():
    schedule = schedules.make(_hp(), 100)
    assert schedule.learning_rate == LR and schedule.callbacks == []


@pytest.mark.parametrize("step", [0, 1, 37, 100, 150])
def test_exponential_decays_over_the_whole_run_by_default(step):
    schedule = schedules.make(_hp(lr_schedule="exponential", lr_decay_rate=0.5), 100)
    assert _rate(schedule, step) == pytest.approx(LR * 0.5 ** (step / 100), rel=1e-6)


def test_exponential_decay_steps_override():
    hp = _hp(lr_schedule="exponential", lr_decay_rate=0.1, lr_decay_steps=10)
    schedule = schedules.make(hp, 1000)
    assert _rate(schedule, 10) == pytest.approx(LR * 0.1, rel=1e-6)
    assert _rate(schedule, 25) == pytest.approx(LR * 0.1**2.5, rel=1e-6)


def test_piecewise_default_boundaries_at_half_and_three_quarters():
    schedule = schedules.make(_hp(lr_schedule="piecewise", lr_decay_rate=0.1), 200)
    got = {step: _rate(schedule, step) for step in (0, 100, 101, 150, 151, 199)}
    assert got[0] == got[100] == pytest.approx(LR)
    assert got[101] == got[150] == pytest.approx(LR * 0.1)
    assert got[151] == got[199] == pytest.approx(LR * 0.01)


def test_piecewise_explicit_boundaries():
    hp = _hp(lr_schedule="piecewise", lr_boundaries=(5, 8), lr_decay_rate=0.5)
    schedule = schedules.make(hp, 1000)
    assert [_rate(schedule, s) for s in (5, 6, 8, 9)] == pytest.approx([LR, LR / 2, LR / 2, LR / 4])


def test_piecewise_boundaries_must_increase():
    with pytest.raises(ValueError, match="must increase"):
        schedules.make(_hp(lr_schedule="piecewise", lr_boundaries=(8, 5)), 100)


@pytest.mark.parametrize("shape", ["cos", "linear"])
def test_one_cycle_peaks_at_the_end_of_warm_up_and_ends_far_below_the_start(shape):
    total = 101  # steps 0..100; warm-up = 0.3 * 100 = 30 steps
    one_cycle = schedules.OneCycle(LR, total, warmup_fraction=0.3, div_factor=25.0, shape=shape)
    rates = np.array([float(one_cycle(step)) for step in range(total)])
    start = LR / 25.0
    assert rates[0] == pytest.approx(start)
    assert int(np.argmax(rates)) == 30 and rates[30] == pytest.approx(LR)
    assert rates[-1] == pytest.approx(start / schedules.FINAL_DIV_FACTOR, rel=1e-4)
    assert (np.diff(rates[:31]) > 0).all() and (np.diff(rates[30:]) < 0).all()
    middle = rates[15]
    if shape == "linear":
        assert middle == pytest.approx((start + LR) / 2)
    else:  # half-cosine: also halfway at the middle of the ramp, slower at its ends
        assert middle == pytest.approx((start + LR) / 2, rel=1e-5)
        assert rates[3] - rates[0] < (LR - start) * 3 / 30


def test_one_cycle_from_fit_params_and_serialization():
    hp = _hp(lr_schedule="one_cycle", lr_warmup_fraction=0.5, lr_div_factor=10.0)
    schedule = schedules.make(hp, 21).learning_rate
    assert isinstance(schedule, schedules.OneCycle)
    assert float(schedule(0)) == pytest.approx(LR / 10) and float(schedule(10)) == pytest.approx(LR)
    copy = tf.keras.optimizers.schedules.deserialize(
        tf.keras.optimizers.schedules.serialize(schedule)
    )
    assert isinstance(copy, schedules.OneCycle) and copy.get_config() == schedule.get_config()


def test_unknown_schedule_is_rejected_with_the_known_names():
    with pytest.raises(ValueError, match="lr_schedule 'cyclic': use one of constant, exponential"):
        _hp(lr_schedule="cyclic")


def _flat_fit(hp, epochs, extra=()):
    """A model whose validation loss cannot change: zero inputs give zero gradients."""
    tf.keras.utils.set_random_seed(0)
    schedule = schedules.make(hp, total_steps=epochs * 2)
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, use_bias=False)])
    model.compile(tf.keras.optimizers.Adam(schedule.learning_rate), "mse")
    x, y = np.zeros((8, 3), np.float32), np.ones((8, 1), np.float32)
    return model.fit(
        x,
        y,
        batch_size=4,
        epochs=epochs,
        validation_data=(x, y),
        callbacks=[schedules.LearningRateLogger(), *schedule.callbacks, *extra],
        verbose=0,
    )


def test_reduce_on_plateau_lowers_the_rate_when_val_loss_stalls():
    hp = _hp(lr_schedule="plateau", lr_plateau_factor=0.5, lr_plateau_patience=1)
    history = _flat_fit(hp, epochs=4)
    # The rate used in each epoch: first epoch sets the best loss, then every stalled epoch
    # (patience 1) halves the rate for the next one.
    assert history.history["lr"] == pytest.approx([LR, LR, LR / 2, LR / 4])


def test_plateau_rate_never_below_its_floor():
    hp = _hp(lr_schedule="plateau", lr_plateau_factor=1e-4, lr_plateau_patience=1)
    history = _flat_fit(hp, epochs=3)
    assert history.history["lr"][-1] == pytest.approx(LR * schedules.MIN_LR_FRACTION)


def test_learning_rate_is_logged_to_tensorboard(tmp_path):
    from tensorboard.backend.event_processing import event_accumulator

    hp = _hp(lr_schedule="exponential", lr_decay_rate=0.5)
    board = tf.keras.callbacks.TensorBoard(str(tmp_path), update_freq="epoch", profile_batch=0)
    _flat_fit(hp, epochs=3, extra=[board])  # 2 steps per epoch, 6 in all
    events = event_accumulator.EventAccumulator(
        str(tmp_path / "train"), size_guidance={event_accumulator.TENSORS: 0}
    )
    events.Reload()
    logged = [float(tf.make_ndarray(e.tensor_proto)) for e in events.Tensors("epoch_lr")]
    # The rate of each epoch's last step: steps 1, 3, 5 of a 6-step decay.
    assert logged == pytest.approx([LR * 0.5 ** (s / 6) for s in (1, 3, 5)], rel=1e-6)


def _compiled(learning_rate, loss_scale=False):
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.Dense(1)], name="m")
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    if loss_scale:
        optimizer = tf.keras.mixed_precision.LossScaleOptimizer(optimizer)
    model.compile(optimizer, "mse")
    return model


def test_a_schedule_the_builder_ignored_fails_loudly():
    hp = _hp(lr_schedule="one_cycle")
    with pytest.raises(ValueError, match="lr_schedule=one_cycle: model 'm' was compiled with a"):
        schedules.check_applied(_compiled(LR), hp)
    schedules.check_applied(_compiled(schedules.make(hp, 10).learning_rate), hp)
    schedules.check_applied(_compiled(schedules.make(hp, 10).learning_rate, loss_scale=True), hp)
    for name in ("constant", "plateau"):  # a constant optimizer rate is what these use
        schedules.check_applied(_compiled(LR), _hp(lr_schedule=name))
