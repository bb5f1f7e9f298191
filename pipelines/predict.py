"""`kfx predict`: raw CSV rows through the latest pushed model's serving signature."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from pipelines import metadata
from pipelines.home import Home
from pipelines.tasks import TaskError, TaskSpec, feature_name

BATCH = 1024  # examples per signature call
VALUE_SEPARATORS = re.compile(r"[\s;,]+")  # between the values of an image in one cell


def load_rows(path: str | Path):
    """The CSV as strings (no type guessing); empty cells stay empty strings."""
    import pandas as pd

    src = Path(path)
    if not src.is_file():
        raise TaskError(f"{path}: no such file; pass an existing CSV with --input")
    try:
        frame = pd.read_csv(src, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise TaskError(f"{src}: the file is empty; it needs a header row and data rows") from None
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
    frame, features: dict[str, str], source: str, shapes: dict[str, list[int]] | None = None
) -> list[bytes]:
    """Serialized tf.Examples with the model's raw features; empty cells are left missing.

    A fixed-shape feature (`shapes`, e.g. `pixels` [8, 8]) comes from one column whose cell
    holds all its values separated by spaces, or from columns `pixels_0`, `pixels_1`, ...
    (row by row); it must have all its values.
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
    for row_number, row in enumerate(frame.itertuples(index=False), start=2):
        cells = dict(zip(frame.columns, row, strict=True))
        feature_map = {}
        for name, kind in features.items():
            if name in sizes:
                texts = [str(cells[c]) for c in fixed[name]]
                where = f"{source}: row {row_number}, column {fixed[name][0]!r}"
                feature_map[name] = _fixed_feature(kind, texts, sizes[name], where)
                continue
            text = str(cells[columns[name]]).strip()
            if text == "":
                continue
            feature = _feature(kind, text, f"{source}: row {row_number}, column {columns[name]!r}")
            if feature is not None:
                feature_map[name] = feature
        example = tf.train.Example(features=tf.train.Features(feature=feature_map))
        examples.append(example.SerializeToString())
    return examples


def predict(home: Home, spec: TaskSpec, input_csv: str | Path):
    """The input rows plus `prediction` and `score` columns, from the latest pushed model.

    A multi-output model gives `<output>_prediction` and `<output>_score` for each output.

    Raises:
        TaskError: no pushed model yet, or the CSV does not fit the model's inputs.

    """
    import tensorflow as tf

    model_dir = metadata.latest_pushed_model(home, spec.name)
    if model_dir is None:
        raise TaskError(
            f"task {spec.name!r} has no pushed model in {home.root}; "
            f"run `kfx run {spec.name}` first"
        )
    from trainers.common.signatures import MANIFEST

    manifest = json.loads((model_dir / MANIFEST).read_text())
    frame = load_rows(input_csv)
    if manifest.get("kind") in ("policy", "decision_transformer"):
        return _act(model_dir, manifest, frame, str(input_csv))
    examples = to_examples(frame, manifest["features"], str(input_csv), manifest.get("shapes"))
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    # A multi-output model (manifest "outputs") serves <name>_prediction and <name>_score.
    prefixes = [f"{o['name']}_" for o in manifest.get("outputs", [])] or [""]
    columns = [f"{prefix}{key}" for prefix in prefixes for key in ("prediction", "score")]
    found: dict[str, list] = {column: [] for column in columns}
    for start in range(0, len(examples), BATCH):
        out = serve(examples=tf.constant(examples[start : start + BATCH]))
        for column in columns:
            values = out[column].numpy()
            found[column] += [v.decode() if isinstance(v, bytes) else float(v) for v in values]
    frame = frame.copy()
    for column in columns:
        frame[column] = found[column]
    return frame


def _act(model_dir: Path, manifest: dict, frame, source: str):
    """Observations (columns obs_0..obs_N) → the policy's action and its score.

    A Q-network policy scores an action by its Q-value, each row on its own. A Decision
    Transformer reads the rows as one episode in order, conditioned on its target return:
    an optional `reward` column is the reward each row's action earned (default 0), and the
    score is the chosen action's probability.
    """
    import numpy as np
    import tensorflow as tf

    columns = list(manifest["features"])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TaskError(
            f"{source}: missing observation column(s) {', '.join(missing)}; a "
            f"{manifest['env_id']} policy needs {', '.join(columns)}"
        )
    values = np.zeros((len(frame), len(columns)), dtype=np.float32)
    for j, column in enumerate(columns):
        for i, text in enumerate(frame[column]):
            where = f"{source}: row {i + 2}, column {column!r}"
            if not str(text).strip():
                raise TaskError(f"{where}: empty; a policy needs every observation value")
            feature = _feature("FLOAT", str(text).strip(), where)
            if feature is None:
                raise TaskError(f"{where}: NaN; a policy needs every observation value")
            values[i, j] = feature.float_list.value[0]
    frame = frame.copy()
    if manifest["kind"] == "decision_transformer":
        frame["prediction"], frame["score"] = _play_episode(model_dir, values, frame, source)
        return frame
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    out = serve(observations=tf.constant(values))
    frame["prediction"] = out["action"].numpy().astype(int)
    frame["score"] = out["q_values"].numpy().max(axis=1)
    return frame


def _play_episode(model_dir: Path, observations, frame, source: str):
    """A Decision Transformer's actions and their probabilities along one episode's rows."""
    import numpy as np

    from trainers.rl import export

    rewards = np.zeros(len(frame))
    if "reward" in frame.columns:
        try:
            rewards = frame["reward"].replace("", "0").fillna(0).astype(float).to_numpy()
        except ValueError:
            raise TaskError(f"{source}: column 'reward' must be numbers (or empty for 0)") from None
    policy = export.load_policy(str(model_dir))
    policy.reset(1)
    actions, scores = [], []
    for obs, reward in zip(observations, rewards, strict=True):
        action = policy.act([0], obs[np.newaxis])
        logits = policy.last_logits[0]
        probabilities = np.exp(logits - logits.max())
        actions.append(int(action[0]))
        scores.append(float(probabilities[action[0]] / probabilities.sum()))
        policy.record([0], action, [reward])
    return actions, scores
