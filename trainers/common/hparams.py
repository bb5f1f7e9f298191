"""Hyper-parameter dataclasses: defaults, `--set key=value` overrides and Tuner results."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

from trainers.contract import TrainerConfig

T = TypeVar("T")


def override(hp: T, values: Mapping[str, Any] | None) -> T:
    """A copy of dataclass `hp` with `values` applied, converted to each field's type.

    Raises:
        ValueError: a key is not a field, or a value does not convert (message names both).

    """
    if not values:
        return hp
    fields = {f.name: f for f in dataclasses.fields(hp)}
    changes = {}
    for key, value in values.items():
        if key not in fields:
            raise ValueError(f"unknown hyper-parameter {key!r}; known: {', '.join(sorted(fields))}")
        kind = type(getattr(hp, key))
        try:
            if kind is tuple and isinstance(value, str):  # --set hidden=256,256
                changes[key] = tuple(int(v) for v in value.split(","))
            elif kind is tuple:
                changes[key] = tuple(value)
            elif kind is bool and isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                changes[key] = value.lower() in ("true", "1")
            else:
                changes[key] = kind(value)
        except (TypeError, ValueError):
            raise ValueError(f"hyper-parameter {key}={value!r} is not a {kind.__name__}") from None
    return dataclasses.replace(hp, **changes)


def from_fn_args(default: T, fn_args) -> T:
    """Defaults, then the `TrainerConfig`'s `hparams`, then the Tuner's best values."""
    hp = TrainerConfig.from_fn_args(fn_args).params(default)
    tuned = getattr(fn_args, "hyperparameters", None)
    if tuned:
        import keras_tuner

        values = keras_tuner.HyperParameters.from_config(tuned).values
        hp = override(hp, {k: v for k, v in values.items() if hasattr(hp, k)})
    return hp
