"""Progress of long steps (epochs, env steps, trials, episodes) on stderr.

On a terminal: a tqdm bar with rate and ETA that clears itself when done, so `kfx run`'s
one line per component stays readable. Otherwise (a log file, a pipe, a Kubeflow pod):
plain lines, at most one per `KFX_PROGRESS_INTERVAL` seconds (default 30), and a closing
line only when an earlier one was printed, so short steps stay silent. `KFX_PROGRESS=0`
turns both off. stdout is never written: `kfx run --json` stays machine-readable.
"""

from __future__ import annotations

import os
import sys
import time

INTERVAL_ENV, SWITCH_ENV = "KFX_PROGRESS_INTERVAL", "KFX_PROGRESS"
DEFAULT_INTERVAL_S = 30.0


def _duration(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _postfix(values: dict) -> str:
    return ", ".join(
        f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in values.items()
    )


class Bar:
    """`total` units of work named `desc`; `update` as they finish, `close` (or `with`) at the end.

    Args:
        total: units the step will do (the bar may close early, e.g. early stopping).
        desc: what is progressing ('training', 'tuning', ...).
        unit: one unit's name ('epoch', 'step', 'trial', 'episode').
        stream: where to write (default: `sys.stderr` at creation).
        interval: seconds between plain lines (default: $KFX_PROGRESS_INTERVAL or 30).
        tty: force the terminal (True) or the plain (False) form; None asks `stream`.

    """

    def __init__(self, total: int, desc: str, unit: str, stream=None, interval=None, tty=None):
        self.total, self.desc, self.unit = max(int(total), 0), desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = float(
            interval if interval is not None else os.environ.get(INTERVAL_ENV, DEFAULT_INTERVAL_S)
        )
        self.done, self.start = 0, time.monotonic()
        self._last, self._printed, self._closed, self._bar = self.start, False, False, None
        self.enabled = os.environ.get(SWITCH_ENV, "1") != "0"
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.tty = bool(isatty()) if tty is None else tty
        if self.enabled and self.tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.total, desc=desc, unit=unit, file=self.stream, leave=False,
                dynamic_ncols=True, mininterval=0.5,
            )  # fmt: skip

    def update(self, n: int = 1, **postfix) -> None:
        """Marks `n` more units done; `postfix` values (loss, ε, ...) go beside the count."""
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            if postfix:
                self._bar.set_postfix_str(_postfix(postfix), refresh=False)
            self._bar.update(n)
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last, self._printed = now, True
            self._line(self._status(now) + (f"; {_postfix(postfix)}" if postfix else ""))

    def _status(self, now: float) -> str:
        elapsed = now - self.start
        shown = (
            f"{self.done}/{self.total} {self._units(self.total)}" if self.total else f"{self.done}"
        )
        if self.total and self.done:
            rate = self.done / max(elapsed, 1e-9)
            left = (self.total - self.done) / rate
            share = f"{self.done / self.total:.0%}"
            return f"{shown} ({share}), {_duration(elapsed)} elapsed, ETA {_duration(left)}"
        return f"{shown}, {_duration(elapsed)} elapsed"

    def _units(self, count: int) -> str:
        return self.unit if count == 1 else f"{self.unit}s"

    def _line(self, text: str) -> None:
        print(f"    {self.desc}: {text}", file=self.stream, flush=True)

    def close(self) -> None:
        """Clears the bar; in plain form, a last line if any was printed before."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self._printed:
            took = _duration(time.monotonic() - self.start)
            self._line(f"{self.done} {self._units(self.done)} in {took}")

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
