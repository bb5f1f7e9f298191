"""Shared by the e2e tests: call the real CLI in-process, read splits and MLMD back."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import warnings
from pathlib import Path

import pandas as pd

from pipelines import cli, metadata
from pipelines.home import Home


def supervised_components(
    example_gen: str = "CsvExampleGen",
    baseline: str = "baseline_model_resolver",
    extra: tuple[str, ...] = (),
) -> set[str]:
    """The nodes of a supervised run on a curated schema, as every supervised e2e expects them.

    `baseline`: the Resolver locally, `baseline_model_lookup` when compiled for Kubeflow;
    `extra`: the task's own nodes (a source model's resolver).
    """
    return {
        example_gen,
        "ImportSchemaGen",
        "StatisticsGen",
        "ExampleValidator",
        "DriftCheck",
        "AnomalyGate",
        "Transform",
        "Trainer",
        baseline,
        "Evaluator",
        "ModelGate",
        "ServingCheck",
        "Pusher",
        "Report",
        *extra,
    }


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> dict:
        return json.loads(self.out.strip().splitlines()[-1])


def kfx(home: Path, *args: str) -> Result:
    """Runs `kfx --home HOME ARGS...` in this process and captures its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(["--home", str(home), *args])
        except SystemExit as exit_:
            code = exit_.code
    return Result(code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def cli_state():
    """`kfx` changes global logging and warning filters (console.quiet); put them back."""
    names = ("absl", "apache_beam", "tensorflow")
    saved = {n: (logging.getLogger(n).propagate, logging.getLogger(n).level) for n in names}
    try:
        with warnings.catch_warnings():
            yield
    finally:
        for name, (propagate, level) in saved.items():
            logging.getLogger(name).propagate = propagate
            logging.getLogger(name).setLevel(level)


def states(home: Path, task: str, run_id: str) -> dict[str, str]:
    """{component: MLMD state} of one run."""
    summary = metadata.run_summary(Home.resolve(home), task, run_id)
    return {} if summary is None else {s.node: s.state for s in summary.steps}


def split_rows(home: Path, task: str, split: str = "test") -> pd.DataFrame:
    """The raw rows ExampleGen put in a split (newest ExampleGen output), as a DataFrame."""
    import tensorflow as tf

    root = Path(home) / "pipelines" / task / "CsvExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    rows = []
    for path in sorted((newest / f"Split-{split}").glob("*.gz")):
        for record in tf.data.TFRecordDataset(str(path), compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            row = {}
            for name, feature in example.features.feature.items():
                kind = feature.WhichOneof("kind")
                values = list(getattr(feature, kind).value) if kind else []
                value = values[0] if values else None
                row[name] = value.decode() if isinstance(value, bytes) else value
            rows.append(row)
    return pd.DataFrame(rows)


def serving_versions(home: Path, task: str) -> list[str]:
    folder = Path(home) / "serving" / task
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
