"""What a task is, as plain data: `TaskSpec`, its `Output`s and the metrics they gate on.

A trainer package declares its task(s) in its `task.py` (`TASK = TaskSpec(...)` or
`TASKS = (...)`); the pipelines' registry collects them, and an installed package can add
tasks through the `kfx.tasks` entry-point group the same way. The type lives on the trainers'
side so that a task package can declare itself without importing `pipelines`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SCHEMAS_DIR = Path(__file__).resolve().parents[1] / "schemas"
ENVIRONMENT = "environment"  # `TaskSpec.data` of RL tasks: experience comes from the env
USER_DATA = "user"  # `TaskSpec.data` of tasks whose data only comes from the user's files
CSV, TFRECORD = "csv", "tfrecord"  # `TaskSpec.data_format`: what ExampleGen reads


@dataclasses.dataclass(frozen=True)
class Metric:
    """How the Evaluator computes and compares one gating metric."""

    tfma_class: str
    """Metric class that TFMA instantiates ('' when a custom evaluator computes it)."""
    higher_is_better: bool
    """Direction of the change threshold against the baseline model."""
    margin: float = 0.0
    """Default of how far a model must beat the naive predictor, in the metric's units."""
    tfma_module: str = ""
    """Module TFMA imports `tfma_class` from ('': a Keras or TFMA built-in)."""


METRICS: Mapping[str, Metric] = {
    # One point over the majority class: a model that learnt nothing cannot pass by luck.
    "accuracy": Metric("SparseCategoricalAccuracy", higher_is_better=True, margin=0.01),
    "rmse": Metric("RootMeanSquaredError", higher_is_better=False),
    # Sequence outputs: the whole decoded sequence must equal the target's.
    "exact_match": Metric(
        "SequenceExactMatch",
        higher_is_better=True,
        margin=0.01,
        tfma_module="components.exact_match",
    ),
    # RL tasks: PolicyEvaluator computes it from greedy episodes, not TFMA.
    "mean_return": Metric("", higher_is_better=True),
}
SPLITS = ("train", "eval", "test")  # ExampleGen's splits; eval picks, test judges
HASH_BUCKETS = {"train": 14, "eval": 3, "test": 3}  # 70/15/15 when a dataset has no test set


@dataclasses.dataclass(frozen=True)
class Lagged:
    """A forecast's naive predictor read from each example: a past value of its window."""

    feature: str
    """Raw window feature (a fixed-length float list, oldest value first)."""
    lag: int = 1
    """How many steps back: 1 is the last value, the season's length a seasonal-naive one."""


def _lagged(value) -> Lagged | None:
    """A `Lagged` from itself, its JSON dict, or None."""
    return Lagged(**value) if isinstance(value, Mapping) else value


@dataclasses.dataclass(frozen=True)
class Output:
    """One output of a multi-output model: what it learns and how the Evaluator scores it."""

    name: str
    """Output key of the model, its loss and metrics, and its serving outputs' prefix."""
    label: str
    """Raw label column it learns."""
    problem: str
    """'classification' or 'regression'."""
    metric: str
    """Metric the Evaluator computes for it, a key of `METRICS`."""
    threshold: float | None = None
    """Value the metric must reach; None reports it without gating (a training aid)."""
    margin: float | None = None
    """How far it must beat the naive predictor of the same run (None: the metric's default)."""
    reason: str = ""
    """Why the threshold is where it is (the measurement behind it), one line."""
    naive: Lagged | None = None
    """Each example's own naive forecast (last value, seasonal); None: the training split's
    majority class or mean."""
    naive_factor: float | None = None
    """The metric must reach `naive_factor` × the naive value (lower is better: at most);
    None: beat it by `margin`."""

    def __post_init__(self):
        """A naive forecast from JSON becomes a `Lagged`."""
        object.__setattr__(self, "naive", _lagged(self.naive))

    @property
    def naive_margin(self) -> float:
        """`margin`, or the metric's default."""
        return METRICS[self.metric].margin if self.margin is None else float(self.margin)

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger metric value is better."""
        return METRICS[self.metric].higher_is_better

    @property
    def key(self) -> str:
        """How summaries name its metric: 'OUTPUT/METRIC', or 'METRIC' for a single output."""
        return f"{self.name}/{self.metric}" if self.name else self.metric


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """Everything a pipeline kind needs to know about one task."""

    name: str
    """Registry key; also the TFX pipeline name and the MLMD pipeline context."""
    kind: str
    """Pipeline kind ('supervised', 'rl', 'offline_rl'): the registered kind that builds it."""
    trainer: str
    """Trainer package, e.g. 'trainers.penguin': `.model` holds `run_fn` (and `tuner_fn`,
    `HParams`), or `train_policy` for RL tasks."""
    dataset: str
    """One-line description of the dataset for `kfx tasks`."""
    metric: str
    """Evaluator gating metric, a key of `METRICS`."""
    threshold: float
    """Value the metric must reach (lower bound, or upper bound when lower is better)."""
    margin: float | None = None
    """How far the main metric must beat the naive predictor (None: the metric's default)."""
    reason: str = ""
    """Why the threshold is where it is (the measurement behind it), one line."""
    naive: Lagged | None = None
    """The main output's per-example naive forecast (`Output.naive`)."""
    naive_factor: float | None = None
    """The main metric must reach this multiple of the naive value (`Output.naive_factor`)."""
    data: str = USER_DATA
    """Offline data source: a module with `write(dest_dir, **data_options)`, `USER_DATA`
    (files the user adds with `--data`) or `ENVIRONMENT` (RL: a simulator)."""
    data_format: str = CSV
    """What the data module writes and ExampleGen reads: `CSV` or `TFRECORD` (tf.Examples)."""
    given_splits: bool = False
    """The data module writes `train/`, `eval/` and `test/` folders in each span (a dataset
    that ships its own test set); False: ExampleGen hash-splits one folder 70/15/15."""
    label: str = ""
    """Label column in the raw data ('' for RL tasks)."""
    problem: str = "classification"
    """'classification', 'regression', 'sequence' (a decoded string, gated on exact match)
    or 'control' (RL)."""
    preprocessing: str | None = None
    """Module with the Transform `preprocessing_fn`; None: the trainer's `.preprocessing`."""
    schema: str | None = None
    """Curated schema.pbtxt (absolute, or relative to kfx's `schemas/`); None infers one."""
    train_steps: int = 1000
    """Default number of training steps (RL: environment steps)."""
    placement: str = "cpu"
    """Placement profile used when compiling for Kubeflow."""
    data_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Keyword arguments of the data module's `write` (e.g. which classes to keep)."""
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Task defaults of the trainer's hyper-parameters, applied before `--set`."""
    env_id: str | None = None
    """Gymnasium environment of an RL task (training and evaluation)."""
    rollouts: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Offline RL: TrajectoryGen settings that differ from the kind's defaults."""
    outputs: tuple[Output, ...] = ()
    """A multi-output model's outputs, main first: `label`, `problem`, `metric` and
    `threshold` above must be the main output's (`multi_output` builds such a spec). Empty:
    one output, described by those fields."""
    source_task: str | None = None
    """Task whose newest pushed model this one builds on (an offline-RL task's trajectory
    policy; a supervised task's Trainer `base_model`: a backbone or a teacher); resolved
    through MLMD, so that task must have pushed a model first."""
    notes: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Provenance shown to people (e.g. a user CSV's source file); never read by a run."""

    def __post_init__(self):
        """Outputs from JSON become `Output`s; a multi-output spec must agree with its main."""
        outputs = tuple(o if isinstance(o, Output) else Output(**o) for o in self.outputs or ())
        object.__setattr__(self, "outputs", outputs)
        object.__setattr__(self, "naive", _lagged(self.naive))
        if self.metric not in METRICS:
            raise ValueError(f"task {self.name!r}: unknown metric {self.metric!r}")
        if self.naive is not None and self.problem != "regression":
            raise ValueError(f"task {self.name!r}: a lagged naive forecast needs a regression")
        if self.data_format not in (CSV, TFRECORD):
            raise ValueError(f"task {self.name!r}: data_format must be {CSV!r} or {TFRECORD!r}")
        if not outputs:
            return
        main = outputs[0]
        mains = ("label", "problem", "metric", "threshold", "margin", "naive", "naive_factor")
        if any(getattr(main, f) != getattr(self, f) for f in mains):
            raise ValueError(f"task {self.name!r}: {'/'.join(mains)} must be outputs[0]'s")
        if main.threshold is None:
            raise ValueError(f"task {self.name!r}: the main output {main.name!r} needs a threshold")
        if sum(o.problem == "classification" for o in outputs) > 1:
            # Class names live in one label vocabulary (trainers/common/features.LABEL_VOCAB).
            raise ValueError(f"task {self.name!r}: at most one classification output")

    @property
    def model_module(self) -> str:
        """The module TFX's Trainer (or RLTrainer) calls: `run_fn`, `tuner_fn`, `HParams`."""
        return f"{self.trainer}.model"

    @property
    def preprocessing_module(self) -> str:
        """The module whose `preprocessing_fn` Transform calls."""
        return self.preprocessing or f"{self.trainer}.preprocessing"

    @property
    def scored(self) -> tuple[Output, ...]:
        """What the Evaluator computes, main first: `outputs`, or the one output of the spec."""
        if self.outputs:
            return self.outputs
        return (
            Output(
                "",
                self.label,
                self.problem,
                self.metric,
                self.threshold,
                self.margin,
                self.reason,
                self.naive,
                self.naive_factor,
            ),
        )

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger metric value is better."""
        return METRICS[self.metric].higher_is_better

    @property
    def schema_path(self) -> Path | None:
        """Absolute path of the curated schema, if the task has one."""
        if self.schema is None:
            return None
        path = Path(self.schema)
        return path if path.is_absolute() else SCHEMAS_DIR / path

    def with_threshold(self, threshold: float | None) -> TaskSpec:
        """A copy with another gating threshold of the main metric (None keeps this one)."""
        if threshold is None:
            return self
        reason = "set with --threshold for this run"
        outputs = self.outputs
        if outputs:
            main = dataclasses.replace(outputs[0], threshold=threshold, reason=reason)
            outputs = (main, *outputs[1:])
        return dataclasses.replace(self, threshold=threshold, reason=reason, outputs=outputs)


def multi_output(outputs: tuple[Output, ...], **fields) -> TaskSpec:
    """A TaskSpec whose main label, problem, metric and threshold are `outputs[0]`'s."""
    main = outputs[0]
    return TaskSpec(
        label=main.label,
        problem=main.problem,
        metric=main.metric,
        threshold=main.threshold,
        margin=main.margin,
        reason=main.reason,
        naive=main.naive,
        naive_factor=main.naive_factor,
        outputs=outputs,
        **fields,
    )
