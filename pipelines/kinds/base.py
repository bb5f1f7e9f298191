"""What a pipeline kind is: the one object that knows how a kind of task runs.

A kind builds the task's pipeline (the same object for local runs and Kubeflow), says which
run options it supports, names its training and evaluation nodes, turns a run's options into
the trainer's `TrainerConfig`, and predicts with the models it pushes. Everything else in
`pipelines/` asks the kind instead of comparing kind names.
"""

from __future__ import annotations

import importlib

from pipelines.errors import TaskError
from pipelines.options import RunOptions
from trainers.contract import TrainerConfig
from trainers.spec import TaskSpec


class Kind:
    """Base of every pipeline kind; subclasses set the class attributes and build pipelines."""

    name: str = ""
    """Registry key: `TaskSpec.kind` of its tasks."""
    training_nodes: tuple[str, ...] = ()
    """Component ids that train (placed on the training pool when compiled for Kubeflow)."""
    evaluation_node: str = ""
    """Component id whose ModelBlessing gates the Pusher."""
    earlier_evaluation_nodes: tuple[str, ...] = ()
    """Nodes whose blessing gated the Pusher in runs recorded by earlier kfx versions."""
    reads_data: bool = True
    """Whether ExampleGen reads a data folder (False: experience comes from a simulator)."""
    supports_tuning: bool = False
    """Whether `--tune` adds a Tuner."""
    supports_optimize: bool = False
    """Whether `--optimize` adds a ModelOptimizer."""
    supports_warm_start: bool = True
    """Whether `--warm-start` can start the Trainer from the latest blessed model."""
    supports_env: bool = False
    """Whether `--env` can derive the task for another gymnasium environment."""
    supports_eval_episodes: bool = False
    """Whether `--eval-episodes` sets how many episodes judge a policy."""

    def decision_node(self, nodes) -> str | None:
        """Which of a run's `nodes` holds the blessing the Pusher read (None: none ran)."""
        candidates = (self.evaluation_node, *self.earlier_evaluation_nodes)
        return next((node for node in candidates if node in nodes), None)

    def create_pipeline(self, spec: TaskSpec, home, opts: RunOptions):
        """The TFX pipeline of `spec` for `opts` (home: a local `Home` or a remote layout)."""
        raise NotImplementedError

    def trainer_config(self, spec: TaskSpec, opts: RunOptions) -> TrainerConfig:
        """What the pipeline hands the trainer."""
        raise NotImplementedError

    def predictor(self, model_dir, manifest):
        """The pushed model, loaded once, as `run(frame, source)`.

        `run` returns `frame` (rows as strings) plus the model's prediction columns.

        Raises:
            TaskError: the model is not one this kind pushes.
        """
        raise NotImplementedError

    def check(self, spec: TaskSpec, opts: RunOptions) -> None:
        """Refuses options this kind (or this task) cannot honour, naming the fix.

        Raises:
            TaskError: the first unsupported option.
        """
        from pipelines import kinds

        wanted = {
            "--tune": (opts.tune, "supports_tuning"),
            "--optimize": (opts.optimize, "supports_optimize"),
            "--warm-start": (opts.warm_start, "supports_warm_start"),
            "--eval-episodes": (opts.eval_episodes is not None, "supports_eval_episodes"),
        }
        for flag, (asked, support) in wanted.items():
            if asked and not getattr(self, support):
                able = [k.name for k in kinds.registry().values() if getattr(k, support)]
                raise TaskError(
                    f"{flag} applies to {' and '.join(able)} tasks; {spec.name!r} is {self.name}"
                )
        if opts.tune and not hasattr(importlib.import_module(spec.model_module), "tuner_fn"):
            raise TaskError(
                f"--tune: {spec.name} has no search space ({spec.model_module} has no tuner_fn)"
            )

    def for_env(self, home, spec: TaskSpec, env_id: str, threshold: float | None) -> TaskSpec:
        """The task derived for another environment (`--env`)."""
        raise TaskError(f"--env applies to RL tasks; {spec.name!r} is a {self.name} task")
