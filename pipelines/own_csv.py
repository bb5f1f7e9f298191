"""Bring your own CSV: a tabular task inferred from a user's file and kept in the home.

`register_csv` reads the file once to infer the problem type and a default gate ("beat the
trivial predictor"), stages a copy as the task's next span and saves the task; after its first
run `freeze_schema` keeps the inferred schema, so later data is validated against it.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pipelines import csv_check, spans, tasks
from pipelines.errors import TaskError
from pipelines.home import Home
from trainers.spec import USER_DATA, TaskSpec

TABULAR_TRAINER = "trainers.tabular"
CLASSIFICATION_MAX_INT_CLASSES = 20  # an integer label with at most this many values is a class
DEFAULT_TRAIN_STEPS = 500
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")


def csv_task_name(csv_path: str | Path, name: str | None = None) -> str:
    """The task a `--data FILE.csv` registers: `--name`, else the file's stem made safe.

    Raises:
        TaskError: the name is not letters, digits, `_` and `-` (it names folders and files
            in the home, so `../x` must never reach a path), or is a built-in task's.
    """
    found = name or spans.feature_name(Path(csv_path).stem).lower()
    if not _NAME.match(found) or found in tasks.builtin():
        raise TaskError(
            f"{csv_path}: task name {found!r} is not usable (a letter, then letters, digits, "
            "_ and -; not a built-in task); choose one with --name"
        )
    return found


def is_csv_task(spec: TaskSpec) -> bool:
    """Whether `spec` is a bring-your-own-CSV task (its schema is frozen after a first run)."""
    return spec.trainer == TABULAR_TRAINER and spec.data == USER_DATA


def register_csv(
    home: Home,
    csv_path: str | Path,
    label: str,
    name: str | None = None,
    threshold: float | None = None,
) -> TaskSpec:
    """Registers (or updates) a tabular task for a user CSV and stages its data in the home.

    The CSV is read once to infer the problem type and a default threshold; a copy with safe
    column names and without unlabeled rows is stored under the home (the user's file is never
    modified). Re-registering an existing name with new data keeps the task's label.

    Raises:
        TaskError: the file, the label column or the name cannot be used; the message names
            the file, the column and the fix.

    """
    import pandas as pd

    src = Path(csv_path).expanduser().resolve()
    if not src.is_file():
        raise TaskError(f"{csv_path}: no such file; pass an existing CSV with --data")
    name = csv_task_name(src, name)
    table = csv_check.read(src)  # text, UTF-8, one header, a value per column in each row
    csv_check.check_numbers(
        table, csv_check.numeric_columns(table), "the rest of the column is numbers"
    )
    try:
        frame = pd.read_csv(src, skipinitialspace=True)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        first = str(err).splitlines()[0]
        raise TaskError(f"{src}: not a readable CSV ({first}); fix the file") from None
    frame.columns = [str(c) for c in frame.columns]
    if label not in frame.columns:
        raise TaskError(
            f"{src}: no column {label!r} for --label; columns are: {', '.join(frame.columns)}"
        )
    renamed = {c: spans.feature_name(c) for c in frame.columns}
    clashes = _duplicates(renamed.values())
    if clashes:
        raise TaskError(f"{src}: columns {clashes} collide once made safe; rename them")
    frame = frame.rename(columns=renamed)
    safe_label = renamed[label]
    labelled = frame[frame[safe_label].notna()]
    if len(labelled) < 10 or labelled[safe_label].nunique() < 2:
        raise TaskError(
            f"{src}: column {label!r} needs at least 10 labelled rows and 2 distinct values "
            f"(found {len(labelled)} rows, {labelled[safe_label].nunique()} values)"
        )
    if len(labelled.columns) < 2:
        raise TaskError(f"{src}: only the label column {label!r}; add feature columns")

    spec_file = home.tasks_dir / f"{name}.json"
    previous = tasks.load(spec_file) if spec_file.exists() else None
    if previous is not None and previous.label != safe_label:
        raise TaskError(
            f"{src}: task {name!r} already exists with label {previous.label!r}; "
            "use the same --label or another --name"
        )
    problem, default_threshold = infer_problem(labelled[safe_label])
    metric = "accuracy" if problem == "classification" else "rmse"
    spans.add_span(home, name, labelled.to_csv(index=False).encode())
    spec = TaskSpec(
        name=name,
        kind="supervised",
        trainer=TABULAR_TRAINER,
        data=USER_DATA,
        dataset=f"{src.name} ({len(labelled)} rows, {len(labelled.columns) - 1} features)",
        label=safe_label,
        problem=problem,
        metric=metric,
        threshold=float(threshold if threshold is not None else default_threshold),
        schema=previous.schema if previous else None,
        train_steps=previous.train_steps if previous else DEFAULT_TRAIN_STEPS,
        notes={"source": str(src), "dropped_unlabelled_rows": len(frame) - len(labelled)},
    )
    return tasks.save(home, spec)


def freeze_schema(home: Home, spec: TaskSpec, schema_file: Path) -> TaskSpec:
    """Keeps the schema inferred on a CSV task's first data as the schema of its later data.

    From then on ImportSchemaGen loads it, so a new file with an unknown category, a type
    change or a lost column stops at the AnomalyGate instead of retraining on it.

    Returns:
        The updated spec (also saved in the home).
    """
    dest = home.tasks_dir / f"{spec.name}.schema.pbtxt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(Path(schema_file).read_text())
    return tasks.save(home, dataclasses.replace(spec, schema=str(dest)))


def infer_problem(label) -> tuple[str, float]:
    """Classification or regression, and a default threshold: beat the trivial predictor.

    Classification must beat always predicting the majority class; regression must beat
    always predicting the mean (an RMSE below the label's standard deviation).
    """
    import pandas as pd

    integral = pd.api.types.is_integer_dtype(label) or (
        pd.api.types.is_float_dtype(label) and (label == label.round()).all()
    )
    is_class = (
        pd.api.types.is_bool_dtype(label)
        or not pd.api.types.is_numeric_dtype(label)
        or (integral and label.nunique() <= CLASSIFICATION_MAX_INT_CLASSES)
    )
    if is_class:
        majority = float(label.value_counts(normalize=True).iloc[0])
        return "classification", round(min(0.99, majority + 0.01), 4)
    return "regression", round(float(label.std(ddof=0)), 6)


def _duplicates(values) -> list[str]:
    seen, dup = set(), []
    for value in values:
        if value in seen:
            dup.append(value)
        seen.add(value)
    return dup
