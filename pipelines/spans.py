"""A task's data as spans: `HOME/data/TASK/span-N/`, newest read by ExampleGen (`{SPAN}`).

Built-in data is written once as span 1; every `--data FILE` becomes the next span (identical
data reuses the newest); a span that fails validation moves to `rejected/`, so the next run
falls back to the last good one. Span numbers are never reused; nothing is deleted.
"""

from __future__ import annotations

import codecs
import hashlib
import importlib
import inspect
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.span_layout import REJECTED, SPAN, WHY_FILE
from pipelines.errors import TaskError
from pipelines.home import Home
from trainers.spec import ENVIRONMENT, USER_DATA, TaskSpec

WRITTEN = ".written.json"  # the `--set` data settings the built-in span 1 was written with


def feature_name(column: str) -> str:
    """A CSV column name made safe for tf.Example keys, Keras inputs and TF op names."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", column.strip())
    return name if name[:1].isalpha() else f"f_{name}"


def spans(data_root: Path) -> list[int]:
    """Span numbers present under a task's data folder, ascending."""
    found = []
    for folder in Path(data_root).glob(f"{SPAN}*"):
        number = folder.name[len(SPAN) :]
        if folder.is_dir() and number.isdigit() and any(folder.iterdir()):
            found.append(int(number))
    return sorted(found)


def span_dir(home: Home, task: str, number: int) -> Path:
    """The folder of span `number` of `task`."""
    return home.data_dir(task) / f"{SPAN}{number}"


def add_span(home: Home, name: str, content: bytes, filename: str = "data.csv") -> Path:
    """Stores new data as the next span (or reuses the newest span if it is identical)."""
    root = home.data_dir(name)
    existing = spans(root)
    if existing:
        newest = root / f"{SPAN}{existing[-1]}"
        if (newest / filename).exists() and (newest / filename).read_bytes() == content:
            return newest
    rejected = [int(p.name[len(SPAN) :].split("-")[0]) for p in root.glob(f"{REJECTED}/{SPAN}*")]
    dest = root / f"{SPAN}{max(existing + rejected, default=0) + 1}"  # numbers are never reused
    tmp = root / f".incoming-{hashlib.sha256(content).hexdigest()[:12]}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / filename).write_bytes(content)
    tmp.rename(dest)
    return dest


def quarantine(home: Home, name: str, span: Path, run_id: str, why: str = "") -> Path:
    """Moves a span that failed validation aside, so the next run uses the last good span.

    `why` (the anomalies) is kept beside the data as `REJECTED.txt`, with the run's id.
    """
    dest = home.data_dir(name) / REJECTED / f"{span.name}-{run_id.replace(':', '')}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    moved = Path(shutil.move(str(span), dest))
    (moved / WHY_FILE).write_text(f"rejected by run {run_id}\n{why}\n")
    return moved


def stage_data(home: Home, spec: TaskSpec, csv_path: str | Path) -> Path:
    """Adds a user CSV for an existing task as its newest span; returns the span folder.

    The file is read strictly first (`csv_check`): a CSV that cannot be read, or that lacks
    or adds columns, holds text or infinities where the task reads numbers, or labels it
    does not know, is refused with the row and column and never becomes a span. Column
    names are made safe as at registration (`feature_name`); ExampleValidator then checks
    the rows against the task's schema.

    Raises:
        TaskError: the file cannot be the task's data; the message names the fix.
    """
    from pipelines import csv_check

    table = csv_check.read(csv_path)
    safe = [feature_name(column) for column in table.header]
    if spec.label not in safe:
        raise TaskError(
            f"{table.path}: no column {spec.label!r} (the label of task {spec.name!r}); "
            f"the header is: {', '.join(table.header)}"
        )
    expected = _expected(home, spec)
    if expected is not None:
        csv_check.check_columns(table, safe, expected)
    else:  # no schema yet: numbers where the file itself holds numbers
        renamed = table.renamed(safe)
        numeric = csv_check.numeric_columns(renamed)
        csv_check.check_numbers(renamed, numeric, "the rest of the column is numbers")
    content = table.content
    first, newline, rest = content.partition(b"\n")
    if safe != table.header or first.startswith(codecs.BOM_UTF8):  # csv_check read past a BOM
        content = ",".join(safe).encode() + newline + rest
    return add_span(home, spec.name, content)


def _expected(home: Home, spec: TaskSpec):
    """What the task's data must hold (`csv_check.Expected`), or None without a schema."""
    from pipelines import csv_check

    if spec.schema_path is None or not spec.schema_path.is_file():
        return None
    return csv_check.from_schema(spec.name, spec.schema_path, spec.label, _classes(home, spec))


def _classes(home: Home, spec: TaskSpec):
    """The classes of the task's newest pushed model (None: a regressor, or none pushed)."""
    if spec.problem != "classification":
        return None
    from pipelines import metadata
    from trainers import manifest

    model_dir = metadata.latest_pushed_model(home, spec.name)
    if model_dir is None or not manifest.exists(model_dir):
        return None
    return manifest.read(str(model_dir)).classes


def data_keys(spec: TaskSpec) -> frozenset[str]:
    """The keyword arguments the task's data module's `write` takes (`--set` may give them)."""
    if spec.data in (ENVIRONMENT, USER_DATA):
        return frozenset()
    write = importlib.import_module(spec.data).write
    return frozenset(list(inspect.signature(write).parameters)[1:])  # after dest_dir


def input_dir(home: Home, spec: TaskSpec, data_set: Mapping[str, Any] | None = None) -> Path:
    """The task's data folder (span-N subfolders); built-in data is written as span 1.

    Call it under the task's lock (`Home.lock`): it may write the built-in data.

    Args:
        home: the kfx home.
        spec: the task.
        data_set: `--set` values for the data module's `write` (e.g. `data_dir`, `limit`),
            over the task's `data_options`; they apply when the built-in data is written.

    Raises:
        TaskError: no data left, the data module fails, or `data_set` differs from what
            the existing data was written with.

    """
    root = home.data_dir(spec.name)
    written = root / WRITTEN
    if spec.data == ENVIRONMENT or spans(root):
        if data_set:
            before = json.loads(written.read_text()) if written.is_file() else {}
            if any(before.get(k) != v for k, v in data_set.items()):
                raise TaskError(
                    f"--set {', '.join(f'{k}={v}' for k, v in data_set.items())}: {root} "
                    f"already holds {spec.name}'s data, written with {before or 'the defaults'};"
                    f" delete {root} to write it again with these settings"
                )
        return root
    if spec.data == USER_DATA:
        raise TaskError(
            f"{root}: task {spec.name!r} has no data left; add some with "
            f"kfx run {spec.name} --data FILE.csv"
        )
    tmp = root / ".incoming-default"
    if tmp.exists():  # left by a run killed while writing
        shutil.rmtree(tmp)
    chosen = {**spec.data_options, **(data_set or {})}
    try:
        importlib.import_module(spec.data).write(tmp, **chosen)
    except (FileNotFoundError, ValueError) as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise TaskError(f"{spec.name}: {err}") from None
    tmp.rename(root / f"{SPAN}1")
    written.write_text(json.dumps(dict(data_set or {}), sort_keys=True))
    return root
