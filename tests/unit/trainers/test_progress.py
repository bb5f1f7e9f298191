"""Progress on stderr: a bar on a terminal, plain rate-limited lines elsewhere, off on request."""

from __future__ import annotations

import io

import pytest

from trainers.common import callbacks, progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_are_rate_limited_and_closed_with_a_total(monkeypatch):
    stream = io.StringIO()
    clock = iter([0.0, 0.5, 2.5, 3.0, 4.9, 6.0])  # start, 4 updates, close
    monkeypatch.setattr(progress.time, "monotonic", lambda: next(clock))
    with progress.Bar(4, "training", "epoch", stream=stream, interval=2.0) as bar:
        for _ in range(4):
            bar.update(1, loss=0.5)
    lines = stream.getvalue().splitlines()
    assert lines == [
        "    training: 2/4 epochs (50%), 0:02 elapsed, ETA 0:02; loss 0.5",
        "    training: 4/4 epochs (100%), 0:04 elapsed, ETA 0:00; loss 0.5",
        "    training: 4 epochs in 0:06",
    ]


def test_short_steps_stay_silent():
    stream = io.StringIO()
    with progress.Bar(3, "playing", "episode", stream=stream, interval=60) as bar:
        bar.update(3)
    assert stream.getvalue() == ""


def test_a_terminal_gets_a_bar_with_eta_that_clears_itself():
    stream = _Terminal()
    with progress.Bar(10, "tuning", "trial", stream=stream) as bar:
        bar.update(5, best=0.9)
    text = stream.getvalue()
    assert "tuning" in text and "trial" in text and "\r" in text


def test_switched_off(monkeypatch):
    monkeypatch.setenv(progress.SWITCH_ENV, "0")
    for stream in (io.StringIO(), _Terminal()):
        with progress.Bar(2, "x", "step", stream=stream, interval=0) as bar:
            bar.update(2)
        assert stream.getvalue() == ""


@pytest.mark.parametrize("stopped_early", [False, True])
def test_the_epoch_callback_follows_fit(monkeypatch, capsys, stopped_early):
    monkeypatch.setenv(progress.INTERVAL_ENV, "0")
    hook = callbacks.EpochProgress()
    hook.set_params({"epochs": 3})
    hook.on_train_begin()
    for epoch in range(2 if stopped_early else 3):
        hook.on_epoch_end(epoch, {"loss": 0.25, "val_loss": 0.5, "accuracy": 0.9})
    hook.on_train_end()
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("    training: 1/3 epochs (33%)") and "val_loss 0.5" in err[0]
    assert "accuracy" not in err[0]
    assert err[-1].startswith(f"    training: {2 if stopped_early else 3} epochs in")
