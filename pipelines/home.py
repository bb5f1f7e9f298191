"""The kfx home: the one directory that holds everything a run makes."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
from pathlib import Path

ENV_VAR = "KFX_HOME"
DEFAULT = "kfx_home"


class HomeBusy(RuntimeError):
    """Another kfx process holds the task's lock."""


class HomeUnusable(RuntimeError):
    """The home is not a directory this user can read (or, to run, write)."""


@dataclasses.dataclass(frozen=True)
class Home:
    """Paths of pipeline roots, MLMD, pushed models, data, user tasks and logs."""

    root: Path

    @classmethod
    def resolve(cls, arg: str | os.PathLike | None = None) -> Home:
        """`--home DIR`, else `$KFX_HOME`, else `./kfx_home`, as an absolute path."""
        raw = arg or os.environ.get(ENV_VAR) or DEFAULT
        return cls(Path(raw).expanduser().resolve())

    def check(self, write: bool = False) -> Home:
        """This home if it can be used: a directory (or one that can be made) to read or write.

        Raises:
            HomeUnusable: with the path and the fix.
        """
        fix = "pass --home DIR (or set $KFX_HOME) to a directory you can write"
        if self.root.exists() and not self.root.is_dir():
            raise HomeUnusable(f"home {self.root} is a file, not a directory: {fix}")
        if self.root.is_dir() and not os.access(self.root, os.R_OK | os.X_OK):
            raise HomeUnusable(f"home {self.root} cannot be read: fix its permissions or {fix}")
        if write:
            existing = next(p for p in (self.root, *self.root.parents) if p.exists())
            if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
                raise HomeUnusable(f"home {self.root} cannot be written ({existing}): {fix}")
        return self

    @property
    def metadata_path(self) -> Path:
        """The MLMD sqlite database shared by every task's pipeline."""
        return self.root / "metadata.sqlite"

    @property
    def tasks_dir(self) -> Path:
        """Specs of bring-your-own-CSV tasks, one JSON file each."""
        return self.root / "tasks"

    def pipeline_root(self, task: str) -> Path:
        """Where TFX writes the artifacts of `task`'s pipeline."""
        return self.root / "pipelines" / task

    def serving_dir(self, task: str) -> Path:
        """Where Pusher writes versioned model directories of `task`."""
        return self.root / "serving" / task

    def data_dir(self, task: str) -> Path:
        """Input data of `task` (offline default data and user-supplied files)."""
        return self.root / "data" / task

    def logs_dir(self) -> Path:
        """Full logs of runs (what `-v` would have printed)."""
        return self.root / "logs"

    @contextlib.contextmanager
    def lock(self, task: str, wait: bool = False):
        """Holds an exclusive lock so that two runs of one task never interleave.

        The kernel releases a `flock` when its process dies, so a run killed with -9 leaves
        no stale lock; the file keeps the holder's pid for the message.

        Raises:
            HomeBusy: another process holds it (and `wait` is False).
        """
        if not task or "/" in task or task.startswith("."):
            raise ValueError(f"{task!r} is not a task name; it cannot name a lock file")
        path = self.root / "locks" / f"{task}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip()
                pid = f" (pid {holder})" if holder.isdigit() else ""
                raise HomeBusy(
                    f"`kfx run {task}` is already running in {self.root}{pid}; wait for it "
                    "to finish, or pass --wait to start when it does"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            try:
                yield
            finally:
                handle.seek(0)
                handle.truncate()  # the pid of a finished run would mislead the next message
