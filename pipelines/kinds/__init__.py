"""The registered pipeline kinds. A new kind is one module here and one line in `_MODULES`."""

from __future__ import annotations

import functools
import importlib

from pipelines.errors import TaskError
from pipelines.kinds.base import Kind

_MODULES = ("supervised", "rl", "offline_rl")  # each defines KIND, an instance of its Kind


@functools.cache
def registry() -> dict[str, Kind]:
    """{kind name: Kind} of every registered kind."""
    found = {}
    for module in _MODULES:
        kind = importlib.import_module(f"{__name__}.{module}").KIND
        found[kind.name] = kind
    return found


def get(name: str) -> Kind:
    """The kind called `name`.

    Raises:
        TaskError: no such kind (a task declared with a typo, say).
    """
    kinds = registry()
    if name not in kinds:
        raise TaskError(f"unknown pipeline kind {name!r}; known kinds: {', '.join(kinds)}")
    return kinds[name]


def of(spec) -> Kind:
    """The kind of task `spec`."""
    return get(spec.kind)


def create_pipeline(spec, home, opts):
    """The pipeline of `spec`'s kind; the same object serves local runs and Kubeflow."""
    return of(spec).create_pipeline(spec, home, opts)
