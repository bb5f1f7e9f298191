"""The task registry: every task kfx can run, collected from where tasks are declared.

- Built-in tasks: each package under `trainers/` with a `task.py` declares its task(s) there
  (`TASK = TaskSpec(...)` or `TASKS = (...)`).
- Installed packages: the `kfx.tasks` entry-point group; each entry point names such a
  module (or a TaskSpec, or a sequence of them), e.g. in a plug-in's pyproject.toml:
  `[project.entry-points."kfx.tasks"] mytask = "mytask.task"`.
- The home: bring-your-own-CSV tasks and derived RL tasks, one JSON file each
  (`HOME/tasks/NAME.json`), so later `kfx run NAME` finds them.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib
import importlib.metadata
import json
import pkgutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

from pipelines.errors import TaskError
from pipelines.home import Home
from trainers.spec import TaskSpec

ENTRY_POINTS = "kfx.tasks"
TRAINERS_PACKAGE = "trainers"


def _declared(value, origin: str) -> list[TaskSpec]:
    """The TaskSpecs a module (TASK / TASKS), a TaskSpec or a sequence of them declares."""
    if isinstance(value, ModuleType):
        value = getattr(value, "TASKS", None) or getattr(value, "TASK", None)
    specs = [value] if isinstance(value, TaskSpec) else list(value or ())
    if not specs or not all(isinstance(s, TaskSpec) for s in specs):
        raise TaskError(f"{origin}: declares no TaskSpec (set TASK = TaskSpec(...) or TASKS)")
    return specs


def _collect(found: dict[str, tuple[TaskSpec, str]], specs: Iterable[TaskSpec], origin: str):
    for spec in specs:
        if spec.name in found:
            raise TaskError(
                f"task {spec.name!r} is declared twice: in {found[spec.name][1]} and {origin}; "
                "rename one"
            )
        found[spec.name] = (spec, origin)


@functools.cache
def builtin() -> Mapping[str, TaskSpec]:
    """Tasks declared by kfx's trainer packages and by installed `kfx.tasks` entry points."""
    found: dict[str, tuple[TaskSpec, str]] = {}
    trainers = importlib.import_module(TRAINERS_PACKAGE)
    for info in sorted(pkgutil.iter_modules(trainers.__path__), key=lambda i: i.name):
        # Looked up as a file: importing every package (common/ loads TensorFlow) is slow.
        declared = Path(info.module_finder.path) / info.name / "task.py"
        if info.ispkg and declared.is_file():
            name = f"{TRAINERS_PACKAGE}.{info.name}.task"
            _collect(found, _declared(importlib.import_module(name), name), name)
    for point in importlib.metadata.entry_points(group=ENTRY_POINTS):
        origin = f"entry point {point.name} = {point.value}"
        try:
            loaded = point.load()
        except Exception as err:  # noqa: BLE001 (a broken plug-in names itself)
            raise TaskError(f"{origin}: cannot be imported ({err})") from None
        _collect(found, _declared(loaded, origin), origin)
    return {name: spec for name, (spec, _) in found.items()}


def all_tasks(home: Home) -> list[TaskSpec]:
    """Declared tasks followed by the home's own (bring-your-own CSV, derived RL) tasks."""
    known = builtin()
    user = [load(path) for path in sorted(home.tasks_dir.glob("*.json"))]
    return list(known.values()) + [spec for spec in user if spec.name not in known]


def get(name: str, home: Home) -> TaskSpec:
    """Looks a task up by name; raises TaskError naming the nearest known tasks."""
    if name in builtin():
        return builtin()[name]
    path = home.tasks_dir / f"{name}.json"
    if path.exists():
        return load(path)
    names = [spec.name for spec in all_tasks(home)]
    near = difflib.get_close_matches(name, names, n=3)
    hint = f"did you mean {' or '.join(near)}? " if near else ""
    raise TaskError(
        f"unknown task {name!r}; {hint}known tasks: {', '.join(names)} "
        "(or bring a CSV: kfx run --data FILE.csv --label COLUMN)"
    )


def save(home: Home, spec: TaskSpec) -> TaskSpec:
    """Persists a home task as `HOME/tasks/NAME.json`; returns it."""
    home.tasks_dir.mkdir(parents=True, exist_ok=True)
    (home.tasks_dir / f"{spec.name}.json").write_text(
        json.dumps(dataclasses.asdict(spec), indent=2)
    )
    return spec


def load(path: Path) -> TaskSpec:
    """A home task from its JSON file."""
    try:
        fields = json.loads(path.read_text())
        legacy = fields.pop("custom_config", None) or {}  # written before the spec's fields
        if legacy:
            fields.setdefault("data_options", legacy.pop("data", {}))
            fields.setdefault("env_id", legacy.pop("env_id", None))
            if "target_return" in legacy:
                fields.setdefault("hparams", {"target_return": legacy.pop("target_return")})
            fields.setdefault("notes", legacy)
        return TaskSpec(**fields)
    except (json.JSONDecodeError, TypeError, ValueError) as err:
        raise TaskError(
            f"{path}: not a valid task spec ({err}); delete it and register again"
        ) from None
