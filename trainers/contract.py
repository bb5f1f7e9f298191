"""What a pipeline hands a trainer: one `TrainerConfig`, the same for every pipeline kind.

It travels as a component's `custom_config` (TFX Trainer, Tuner, Transform) or as a JSON
parameter (RLTrainer); `to_custom_config` and `from_custom_config` are the only two places that
know its JSON shape. Hyper-parameters always sit in `hparams` (the task's defaults, then
`--set`), never beside the other keys. Thresholds stay out: changing a gate must not retrain.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Head:
    """One output of a multi-output model, as the trainer needs it (no gate)."""

    name: str
    """Output key: the model's output layer, its loss and metrics, its serving outputs."""
    label: str
    """Raw label column the output learns."""
    problem: str
    """'classification' or 'regression'."""


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """The run's settings a trainer reads (`from_fn_args` inside `run_fn` / `train_policy`)."""

    label: str = ""
    """Raw label column ('' for RL tasks)."""
    problem: str = ""
    """'classification', 'regression' or 'control'."""
    outputs: tuple[Head, ...] = ()
    """A multi-output model's outputs, main first; empty for one output."""
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Hyper-parameter values over the trainer's dataclass defaults: task defaults, then
    `--set` (strings from the command line are converted by `hparams.override`)."""
    env_id: str | None = None
    """RL tasks: the gymnasium environment."""
    train_steps: int | None = None
    """RL tasks: the environment-step budget (TFX's Trainer passes its own `train_steps`)."""
    tuner: str = "random"
    """Tuner runs: the keras-tuner algorithm (random, bayesian, hyperband)."""
    tune_trials: int = 6
    """Tuner runs: at most this many trials."""

    def __post_init__(self):
        """Outputs from JSON become `Head`s."""
        heads = tuple(h if isinstance(h, Head) else Head(**h) for h in self.outputs or ())
        object.__setattr__(self, "outputs", heads)
        object.__setattr__(self, "hparams", dict(self.hparams or {}))

    def to_custom_config(self) -> dict[str, Any]:
        """The JSON-ready dict a component's `custom_config` carries (defaults left out)."""
        config = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            default = field.default_factory() if callable(field.default_factory) else field.default
            if field.name == "outputs":
                value = [dataclasses.asdict(h) for h in value]
                default = []
            if value != default:
                config[field.name] = value
        return config

    def to_json(self) -> str:
        """`to_custom_config` as canonical JSON (a component parameter)."""
        return json.dumps(self.to_custom_config(), sort_keys=True)

    @classmethod
    def from_custom_config(cls, config: Mapping[str, Any] | str | None) -> TrainerConfig:
        """The config a pipeline wrote (a dict, or its JSON); unknown keys are an error."""
        if isinstance(config, str):
            config = json.loads(config or "{}")
        config = dict(config or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"trainer config: unknown keys {unknown}; known: {sorted(known)}")
        return cls(**config)

    @classmethod
    def from_fn_args(cls, fn_args) -> TrainerConfig:
        """The config of a TFX Trainer/Tuner run (`fn_args.custom_config`)."""
        return cls.from_custom_config(getattr(fn_args, "custom_config", None))

    def params(self, default: T, **run: Any) -> T:
        """`default` (a hyper-parameter dataclass) with `run` values, then `hparams`, applied.

        `run` carries values the run itself decides (e.g. `env_id`, a step budget); `--set`
        still wins over them.
        """
        from trainers.common import hparams

        return hparams.override(
            default, {**{k: v for k, v in run.items() if v is not None}, **self.hparams}
        )
