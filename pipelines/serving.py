"""The model a task serves: its newest pushed version, swapped in only once it loads and answers.

`ModelServer` holds one loaded version at a time. `refresh()` looks for a newer version in the
task's push folder; a newer one is loaded in this process, asked to answer the last request
that succeeded (or, before any, just loaded), and only then replaces the current one, in one
reference assignment: a request that already took the old version finishes on it. A version
that fails to load or answer is recorded with its error and skipped; the old one keeps
serving. The REST layer on top is pipelines/serve_http.py.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pipelines.errors import TaskError

Predictor = Callable  # run(frame, source) -> frame with prediction columns (Kind.predictor)


@dataclasses.dataclass(frozen=True)
class Version:
    """One loaded pushed version."""

    number: int
    path: Path
    manifest: object
    run: Predictor
    loaded_at: float


def pushed_versions(serving_dir: Path) -> list[int]:
    """Numbered version folders that hold a SavedModel, ascending."""
    if not serving_dir.is_dir():
        return []
    return sorted(
        int(p.name)
        for p in serving_dir.iterdir()
        if p.name.isdigit() and (p / "saved_model.pb").is_file()
    )


class ModelServer:
    """The newest pushed version of one task, hot-swapped (see the module docstring)."""

    def __init__(
        self,
        serving_dir: Path,
        load: Callable[[Path], tuple[object, Predictor]],
        report: Callable[[str], None] | None = None,
    ):
        """Serves what `load` makes of the versions under `serving_dir`.

        `load(version_dir)` → (manifest, predictor), raising if the version is unusable;
        `report(line)` hears of each swap and each version that failed.
        """
        self.serving_dir = Path(serving_dir)
        self._load = load
        self._report = report or (lambda line: None)
        self._current: Version | None = None
        self._probe = None  # the rows of the last request answered, to check a new version
        self.failed: dict[int, str] = {}
        """Versions that could not be loaded or did not answer: number → error."""
        self._refreshing = threading.Lock()

    @property
    def current(self) -> Version | None:
        """The version requests go to now."""
        return self._current

    def refresh(self) -> Version | None:
        """Swaps in the newest pushed version if it is newer, loads and answers."""
        with self._refreshing:
            current = self._current
            for number in reversed(pushed_versions(self.serving_dir)):
                if current is not None and number <= current.number:
                    break
                if number in self.failed:
                    continue
                try:
                    manifest, run = self._load(self.serving_dir / str(number))
                    if self._probe is not None:
                        run(self._probe, f"version {number} check", first_row=0)
                except Exception as err:  # noqa: BLE001 (any failure keeps the old version)
                    self.failed[number] = f"{type(err).__name__}: {err}"
                    kept = f"; still serving {current.number}" if current else ""
                    self._report(f"version {number} not served: {self.failed[number]}{kept}")
                    continue
                path = self.serving_dir / str(number)
                self._current = Version(number, path, manifest, run, time.time())
                self._report(f"serving version {number}")
                break
            return self._current

    def predict(self, frame, source: str, version: int | None = None):
        """The rows through the current version (or `version`, which must be the current one).

        Returns:
            (the Version that answered, frame with prediction columns).

        Raises:
            LookupError: nothing is served yet, or `version` is not the one served.
            TaskError: the rows do not fit the model (the message names row and column).
        """
        served = self._current  # one read: a swap during the call does not touch it
        if served is None:
            raise LookupError(f"no pushed version under {self.serving_dir} yet")
        if version is not None and version != served.number:
            raise LookupError(f"version {version} is not served (serving {served.number})")
        answered = served.run(frame, source, first_row=0)  # a request's instances count from 0
        self._probe = frame.head(8)
        return served, answered

    def watch(self, every_s: float, stop: threading.Event) -> None:
        """Refreshes every `every_s` seconds until `stop` is set (run it in a thread)."""
        while not stop.wait(every_s):
            self.refresh()


def loader(kind) -> Callable[[Path], tuple[object, Predictor]]:
    """`load(version_dir)` for `ModelServer`: the manifest and the kind's predictor."""
    from trainers import manifest

    def load(version_dir: Path):
        found = manifest.read(str(version_dir))
        return found, kind.predictor(version_dir, found)

    return load


def no_version(task: str, serving_dir: Path) -> TaskError:
    """The error when a task has nothing to serve."""
    return TaskError(
        f"task {task!r} has no pushed model in {serving_dir}; run `kfx run {task}` first"
    )
