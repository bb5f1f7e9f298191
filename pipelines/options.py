"""Per-run choices, shared by every pipeline factory and runner."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# None: Beam's defaults are already the fastest local mode for small data (DirectRunner,
# in_memory, one worker), and any Beam argument makes TFX build and stage an ephemeral TFX
# sdist in every Beam component (~1 s each) for workers that a local run does not have.
DEFAULT_BEAM_ARGS: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """What one `kfx run` asks for on top of the task's spec."""

    input_dir: Path | str
    """Folder ExampleGen reads: staged under the home, or a remote URI (gs://...)."""
    train_steps: int | None = None
    """Training steps; None uses the task's default."""
    tune: bool = False
    """Add a Tuner and train with its best hyper-parameters."""
    tuner: str = "random"
    """keras-tuner algorithm: random, bayesian or hyperband."""
    tune_trials: int = 6
    """Upper bound on Tuner trials."""
    warm_start: bool = False
    """Initialise the Trainer from the latest blessed model."""
    enable_cache: bool = True
    """Reuse outputs of components whose inputs and settings did not change."""
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """`--set key=value` hyper-parameter overrides."""
    eval_episodes: int | None = None
    """Policy evaluation episodes (RL tasks); None uses the pipeline's default."""
    target: str = "local"
    """'local', 'kubeflow' (open-source KFP v2) or 'vertex': see pipelines/targets.py."""
    beam_args: tuple[str, ...] = DEFAULT_BEAM_ARGS
    """Beam pipeline arguments for the data components."""
    optimize: bool = False
    """Add a ModelOptimizer after the Evaluator: pruned, quantised TFLite models pushed too."""
    source_model: str | None = None
    """A source task's model URI (Kubeflow: `--source-model`); locally MLMD resolves it."""
    accept_drift: bool = False
    """Let a span whose distribution moved beyond the schema's drift thresholds through."""


OPTIMIZE_PREFIX = "optimize."  # `--set optimize.KEY=VALUE` goes to the ModelOptimizer


def split_overrides(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--set` values split into (the trainer's, the optimizer's without the prefix)."""
    trainer = {k: v for k, v in values.items() if not k.startswith(OPTIMIZE_PREFIX)}
    optimizer = {
        k[len(OPTIMIZE_PREFIX) :]: v for k, v in values.items() if k.startswith(OPTIMIZE_PREFIX)
    }
    return trainer, optimizer


BEAM_RUNNERS = ("DirectRunner", "DataflowRunner", "FlinkRunner", "SparkRunner")


def beam_args(runner: str = "DirectRunner", workers: int = 1, extra=()) -> tuple[str, ...]:
    """Beam pipeline arguments for the data components.

    Args:
        runner: a Beam runner; remote runners take their settings (project, region, staging
            location, master URL...) from `extra`.
        workers: DirectRunner processes; more than one runs in multi_processing mode.
        extra: `--beam-arg` values, passed through unchanged.
    """
    if runner not in BEAM_RUNNERS:
        raise ValueError(f"--beam-runner {runner!r}: use one of {', '.join(BEAM_RUNNERS)}")
    args: list[str] = []
    if runner != "DirectRunner":
        args.append(f"--runner={runner}")
    elif workers > 1:
        args += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    return (*args, *extra) if args or extra else DEFAULT_BEAM_ARGS
