"""`kfx predict`: CSV rows through the latest pushed model.

How a model is called is its kind's choice (`Kind.predictor`); the kinds use the predictors
here, each loading the model once and returning `run(frame, source)` (`kfx predict` calls it
once, `kfx serve` per request): `examples` (raw tf.Examples through `serving_default`),
`policy` (each row an observation) and `episode` (the rows one episode, for an episodic
policy).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from pipelines import csv_check, metadata
from pipelines.errors import TaskError
from pipelines.home import Home
from pipelines.spans import feature_name
from trainers.spec import TaskSpec

BATCH = 1024  # examples per signature call
VALUE_SEPARATORS = re.compile(r"[\s;,]+")  # between the values of an image in one cell


def load_rows(path: str | Path):
    """The CSV as strings (no type guessing); empty cells stay empty strings.

    The file is only ever parsed as text: a pickle, an image or an archive is refused by its
    magic bytes, never loaded.
    """
    import io

    import pandas as pd

    src, _, text = csv_check.text_of(path, flag="--input")
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
        )
    except pd.errors.ParserError as err:  # text_of already refused an empty file
        raise TaskError(
            f"{src}: not a CSV table ({err}); fix the rows or quote the values"
        ) from None
    if frame.empty:
        raise TaskError(f"{src}: no data rows below the header")
    return frame


def _feature(kind: str, text: str, where: str):
    """One tf.train.Feature from a CSV cell of the given schema type."""
    import tensorflow as tf

    try:
        if kind == "BYTES":
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[text.encode()]))
        number = float(text)
        if kind == "INT":
            if not number.is_integer():
                raise ValueError
            return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(number)]))
        if math.isnan(number):
            return None
        return tf.train.Feature(float_list=tf.train.FloatList(value=[number]))
    except ValueError:
        expected = "an integer" if kind == "INT" else "a number"
        raise TaskError(
            f"{where}: {text!r} is not {expected}; fix the cell or leave it empty"
        ) from None


def _value_columns(feature: str, size: int, columns: dict[str, str]) -> list[str] | None:
    """CSV columns of a fixed-shape feature: its own (all values in one cell) or one per value.

    One per value means `FEATURE_0` .. `FEATURE_{size-1}`; None when neither is there.
    """
    if feature in columns:
        return [columns[feature]]
    split = [f"{feature}_{i}" for i in range(size)]
    return [columns[c] for c in split] if all(c in columns for c in split) else None


def _fixed_feature(kind: str, texts: list[str], size: int, where: str):
    """A tf.train.Feature of exactly `size` numbers from one packed cell or one cell each."""
    import tensorflow as tf

    values = VALUE_SEPARATORS.split(" ".join(texts).strip()) if "".join(texts).strip() else []
    if len(values) != size:
        raise TaskError(
            f"{where}: needs {size} numbers (one cell separated by spaces, or one column "
            f"each), found {len(values)}; fix the row"
        )
    features = [_feature(kind, value, where) for value in values]
    if any(f is None for f in features):
        raise TaskError(f"{where}: NaN among the values; every value is needed")
    if kind == "INT":
        flat = [f.int64_list.value[0] for f in features]
        return tf.train.Feature(int64_list=tf.train.Int64List(value=flat))
    flat = [f.float_list.value[0] for f in features]
    return tf.train.Feature(float_list=tf.train.FloatList(value=flat))


def to_examples(
    frame,
    features: dict[str, str],
    source: str,
    shapes: dict[str, list[int]] | None = None,
    first_row: int = 2,
    bad: dict[int, str] | None = None,
) -> list[bytes]:
    """Serialized tf.Examples with the model's raw features; empty cells are left missing.

    A fixed-shape feature (`shapes`, e.g. `pixels` [8, 8]) comes from one column whose cell
    holds all its values separated by spaces, or from columns `pixels_0`, `pixels_1`, ...
    (row by row); it must have all its values. Errors number the rows from `first_row` (2: a
    CSV's first data row; `kfx serve` numbers a request's instances from 0).

    With `bad` (a dict), a row that cannot be converted is left out and its error recorded
    under its row number; without, the first such row raises.
    """
    import tensorflow as tf

    columns = {feature_name(c): c for c in frame.columns}
    sizes = {k: math.prod(v) for k, v in (shapes or {}).items() if k in features}
    fixed = {k: _value_columns(k, n, columns) for k, n in sizes.items()}
    missing = [
        f"{f} (or {f}_0..{f}_{sizes[f] - 1})" if f in sizes else f
        for f in features
        if (fixed[f] is None if f in sizes else f not in columns)
    ]
    if missing:
        raise TaskError(
            f"{source}: missing column(s) {', '.join(missing)} that the model needs; "
            f"the header is: {', '.join(frame.columns)}"
        )
    examples = []
    for row_number, row in enumerate(frame.itertuples(index=False), start=first_row):
        cells = dict(zip(frame.columns, row, strict=True))
        feature_map = {}
        try:
            for name, kind in features.items():
                if name in sizes:
                    texts = [str(cells[c]) for c in fixed[name]]
                    where = f"{source}: row {row_number}, column {fixed[name][0]!r}"
                    feature_map[name] = _fixed_feature(kind, texts, sizes[name], where)
                    continue
                text = str(cells[columns[name]]).strip()
                if text == "":
                    continue
                where = f"{source}: row {row_number}, column {columns[name]!r}"
                feature = _feature(kind, text, where)
                if feature is not None:
                    feature_map[name] = feature
        except TaskError as err:
            if bad is None:
                raise
            bad[row_number] = str(err)
            continue
        example = tf.train.Example(features=tf.train.Features(feature=feature_map))
        examples.append(example.SerializeToString())
    return examples


PREDICTED = "predicted_"  # prefix of an answer column whose name an input column has


def answer_column(name: str, inputs) -> str:
    """`name`, or `predicted_<name>` while an input column has that name (never overwritten)."""
    while name in inputs:
        name = PREDICTED + name
    return name


def _fill(frame, found: dict[str, list], bad: dict[int, str] | None, first_row: int):
    """`frame` plus the `found` columns; rows in `bad` (by row number) get empty cells.

    An input column is never replaced: a `score` label column stays, and the model's score
    becomes `predicted_score`.
    """
    found = {answer_column(column, frame.columns): values for column, values in found.items()}
    frame = frame.copy()
    skipped = set(bad or ())
    kept = [i for i in range(len(frame)) if i + first_row not in skipped]
    for column, values in found.items():
        cells: list = [None] * len(frame)
        for index, value in zip(kept, values, strict=True):
            cells[index] = value
        frame[column] = cells
    return frame


def predict(home: Home, spec: TaskSpec, input_csv: str | Path, bad: dict | None = None):
    """The input rows plus the prediction columns of the task's latest pushed model.

    With `bad` (a dict), rows that do not fit are kept with empty prediction cells and their
    errors recorded by row number; without, the first such row raises.

    Raises:
        TaskError: no pushed model yet, or the CSV does not fit the model's inputs.

    """
    from pipelines import kinds
    from trainers import manifest

    model_dir = metadata.latest_pushed_model(home, spec.name)
    if model_dir is None:
        raise TaskError(
            f"task {spec.name!r} has no pushed model in {home.root}; "
            f"run `kfx run {spec.name}` first"
        )
    frame = load_rows(input_csv)
    predictor = kinds.of(spec).predictor(model_dir, manifest.read(str(model_dir)))
    return predictor(frame, str(input_csv), bad=bad)


def examples(model_dir: Path, manifest):
    """A predictor: rows → raw tf.Examples → `serving_default` → `prediction`, `score`.

    The model is loaded once; the returned `run(frame, source)` adds the columns. A
    multi-output model gives `<output>_prediction` and `<output>_score` for each output.
    """
    import tensorflow as tf

    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    prefixes = [f"{o.name}_" for o in manifest.outputs] or [""]
    columns = [f"{prefix}{key}" for prefix in prefixes for key in ("prediction", "score")]

    def run(frame, source: str, first_row: int = 2, bad: dict[int, str] | None = None):
        serialized = to_examples(frame, manifest.features, source, manifest.shapes, first_row, bad)
        found: dict[str, list] = {column: [] for column in columns}
        for start in range(0, len(serialized), BATCH):
            out = serve(examples=tf.constant(serialized[start : start + BATCH]))
            for column in columns:
                values = out[column].numpy()
                found[column] += [v.decode() if isinstance(v, bytes) else float(v) for v in values]
        return _fill(frame, found, bad, first_row)

    return run


def observations(manifest, frame, source: str, first_row: int = 2, bad=None):
    """The observation columns (`obs_0`..`obs_N`) as float32 [rows, N]; every value needed.

    With `bad` (a dict), rows with a bad value are left out and recorded by row number.
    """
    import numpy as np

    columns = list(manifest.features)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TaskError(
            f"{source}: missing observation column(s) {', '.join(missing)}; a "
            f"{manifest.env_id} policy needs {', '.join(columns)}"
        )
    values = np.zeros((len(frame), len(columns)), dtype=np.float32)
    kept = []
    cells = [frame[column].tolist() for column in columns]  # not a pandas lookup per cell
    for i in range(len(frame)):
        try:
            for j, column in enumerate(columns):
                text = str(cells[j][i]).strip()
                where = f"{source}: row {i + first_row}, column {column!r}"
                if not text:
                    raise TaskError(f"{where}: empty; a policy needs every observation value")
                feature = _feature("FLOAT", text, where)
                if feature is None:
                    raise TaskError(f"{where}: NaN; a policy needs every observation value")
                values[i, j] = feature.float_list.value[0]
        except TaskError as err:
            if bad is None:
                raise
            bad[i + first_row] = str(err)
            continue
        kept.append(i)
    return values[kept]


def policy(model_dir: Path, manifest):
    """A predictor: each row's observation → `prediction` (the action), `score` (its rating)."""
    import tensorflow as tf

    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]

    def run(frame, source: str, first_row: int = 2, bad: dict[int, str] | None = None):
        values = observations(manifest, frame, source, first_row, bad)
        found = {"prediction": [], "score": []}
        if len(values):
            out = serve(observations=tf.constant(values))
            found["prediction"] = [int(a) for a in out["action"].numpy()]
            found["score"] = [float(v) for v in out["score"].numpy()]
        return _fill(frame, found, bad, first_row)

    return run


def episode(model_dir: Path, manifest):
    """A predictor: the rows as one episode in order → each step's action and probability.

    The policy is conditioned on its target return; an optional `reward` column is the
    reward each row's action earned (default 0). The policy keeps the episode's state, so
    one call runs at a time.
    """
    import threading

    import numpy as np

    from trainers.rl import export

    played = export.load_policy(str(model_dir))
    one_at_a_time = threading.Lock()

    def run(frame, source: str, first_row: int = 2, bad=None):
        values = observations(manifest, frame, source, first_row)  # an episode needs every row
        rewards = np.zeros(len(frame))
        if "reward" in frame.columns:
            try:
                rewards = frame["reward"].replace("", "0").fillna(0).astype(float).to_numpy()
            except ValueError:
                raise TaskError(
                    f"{source}: column 'reward' must be numbers (or empty for 0)"
                ) from None
        actions, scores = [], []
        with one_at_a_time:
            played.reset(1)
            for obs, reward in zip(values, rewards, strict=True):
                action = played.act([0], obs[np.newaxis])
                logits = played.last_logits[0]
                probabilities = np.exp(logits - logits.max())
                actions.append(int(action[0]))
                scores.append(float(probabilities[action[0]] / probabilities.sum()))
                played.record([0], action, [reward])
        frame = frame.copy()
        frame["prediction"], frame["score"] = actions, scores
        return frame

    return run
