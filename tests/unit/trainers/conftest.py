"""Tiny real inputs of the trainer tests: Transform outputs of a handful of rows, episodes.

`tiny_inputs(name, labels)` writes them once per session: a real tf.Transform output (the
task's own `preprocessing_fn` on a few raw rows, as TFX's Transform runs it), its transformed
train examples, and eval examples that no model can improve on (every float input NaN).
`make_fn_args` builds the `FnArgs` TFX's Trainer and Tuner hand `run_fn` and `tuner_fn`.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from trainers.contract import TrainerConfig

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"
PENGUINS = TrainerConfig(label="species", problem="classification")


def _schema(name: str):
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    return text_format.Parse((SCHEMAS / name / "schema.pbtxt").read_text(), schema_pb2.Schema())


def _penguin_rows():
    import palmerpenguins

    from trainers.penguin import features

    frame = palmerpenguins.load_penguins()[list(features.COLUMNS)]
    frame = frame.groupby(features.LABEL).head(8)  # every species
    return [{k: [] if v != v else [v] for k, v in r.items()} for r in frame.to_dict("records")]


def _digits_rows():
    from trainers.digits import data

    pixels, labels = data.load()
    pairs = zip(pixels[:30], labels[:30], strict=True)
    return [{"pixels": p.reshape(8, 8), "label": int(y)} for p, y in pairs]


def _car_rows():
    from vega_datasets import data

    from trainers.wide_deep.features import COLUMNS, LABEL

    frame = data.cars()
    frame["Year"] = frame["Year"].dt.year
    frame = frame[list(COLUMNS)].dropna(subset=[LABEL]).head(24)
    return [{k: [] if v != v else [v] for k, v in r.items()} for r in frame.to_dict("records")]


def _review_rows():
    from trainers.multi_io import data

    return [
        {k: [] if v == "" else [float(v) if k in ("price", "rating") else v] for k, v in r.items()}
        for r in data.reviews(rows=24)
    ]


def _sine_rows():
    from trainers.sine_rnn import data
    from trainers.sine_rnn.features import LENGTH
    from trainers.timeseries import windows

    inputs, targets = windows.windows(data.series(1, 60, 0.05, 7)[0], LENGTH)
    return [
        {"window": w, "target": float(t)} for w, t in zip(inputs[:24], targets[:24], strict=True)
    ]


def _text_rows():
    from trainers.text_transformer import data

    frame = data.splits(limit=24)["train"]
    return [{"review": r, "score": s} for r, s in zip(frame["review"], frame["score"], strict=True)]


def _number_rows():
    from trainers.seq2seq import data, numbers

    return [{"words": numbers.spell(int(n)), "digits": str(n)} for n in data.draw(24)]


def _speech_rows():
    from trainers.speech_transformer import data, synth

    clips = data.splits(limit=20)["train"]
    pairs = zip(synth.waveforms(clips), clips, strict=True)
    return [{"waveform": w, "digit": c.word} for w, c in pairs]


def _tabular_fn(inputs):
    from trainers.tabular.preprocessing import preprocessing_fn

    return preprocessing_fn(inputs, PENGUINS.to_custom_config())


_DATA = {  # key: (raw rows, schema folder, preprocessing module or function)
    "penguin": (_penguin_rows, "penguin", "trainers.penguin.preprocessing"),
    "tabular": (_penguin_rows, "penguin", _tabular_fn),
    "digits": (_digits_rows, "digits", "trainers.digits.preprocessing"),
    "wide_deep": (_car_rows, "wide_deep", "trainers.wide_deep.preprocessing"),
    "multi_io": (_review_rows, "multi_io", "trainers.multi_io.preprocessing"),
    "sine": (_sine_rows, "sine_rnn", "trainers.timeseries.preprocessing"),
    "text": (_text_rows, "text_transformer", "trainers.text_transformer.preprocessing"),
    "speech": (_speech_rows, "speech_transformer", "trainers.speech_transformer.preprocessing"),
    "numbers": (_number_rows, "seq2seq", "trainers.seq2seq.preprocessing"),
}


def _unlearnable(rows: list[dict], labels: set[str]) -> list[dict]:
    """The same examples with every float input NaN: a validation loss nothing improves."""

    def nan(key, value):
        is_input = key not in labels and np.asarray(value).dtype.kind == "f"
        return np.full_like(value, np.nan) if is_input else value

    return [{k: nan(k, v) for k, v in row.items()} for row in rows]


def _example(row: dict) -> bytes:
    feature = {}
    for key, value in row.items():
        values = np.asarray(value).reshape(-1)
        if values.dtype.kind in "iu":
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
        elif values.dtype.kind == "f":
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        else:
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _write(path: Path, records) -> str:
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return str(path)


def _transform(folder: Path, key: str, labels: set[str]) -> dict:
    """A real Transform output of a handful of rows, and its train and eval example files."""
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import metadata_io
    from tensorflow_transform.tf_metadata.dataset_metadata import DatasetMetadata

    rows, schema, preprocessing_fn = _DATA[key]
    if isinstance(preprocessing_fn, str):
        preprocessing_fn = importlib.import_module(preprocessing_fn).preprocessing_fn
    metadata = DatasetMetadata(_schema(schema))
    graph = str(folder / "transform_graph")
    # As in the pipeline's Transform (force_tf_compat_v1=True).
    with tft_beam.Context(temp_dir=str(folder / "tmp"), force_tf_compat_v1=True):
        (out, _), transform_fn = (rows(), metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing_fn
        )
        _ = transform_fn | tft_beam.WriteTransformFn(graph)
    # TFX's Transform also writes the raw schema, which the serving signature parses with.
    metadata_io.write_metadata(
        metadata, os.path.join(graph, tft.TFTransformOutput.RAW_METADATA_DIR)
    )
    train = _write(folder / "train.tfrecord", map(_example, out))
    val = _write(folder / "eval.tfrecord", map(_example, _unlearnable(out, labels)))
    return {"transform_graph_path": graph, "train_files": [train], "eval_files": [val]}


def _episodes(folder: Path) -> dict:
    """Episodes whose action follows the state, and the same with NaN states for eval."""
    from trainers.rl import trajectories

    rng = np.random.default_rng(0)
    train, val = [], []
    for _ in range(6):
        states = rng.normal(size=(30, 4)).astype(np.float32)
        actions = (states[:, 0] > 0).astype(np.int64)
        rewards = np.ones(30, np.float32)
        train.append(trajectories.Trajectory(states, actions, rewards))
        val.append(trajectories.Trajectory(np.full_like(states, np.nan), actions, rewards))
    trajectories.write(train, str(folder / "train.tfrecord.gz"))
    trajectories.write(val, str(folder / "eval.tfrecord.gz"))
    return {
        "transform_graph_path": None,
        "train_files": [str(folder / "train*")],
        "eval_files": [str(folder / "eval*")],
    }


def _data_accessor():
    from tfx.components.trainer.fn_args_utils import DataAccessor
    from tfx_bsl.public import tfxio

    def tf_dataset_factory(file_pattern, options, schema):
        return tfxio.TFExampleRecord(file_pattern, schema=schema).TensorFlowDataset(options)

    return DataAccessor(tf_dataset_factory, None, None)


@pytest.fixture(scope="session")
def tiny_inputs(tmp_path_factory):
    """`tiny_inputs(name, labels)`: FnArgs fields of the data set `name`, written once.

    `name` is a key of `_DATA` (a Transform output) or 'episodes' (trajectories); `labels`
    are the transformed label keys, kept intact in the eval examples.
    """
    found = {}

    def get(name: str, labels: set[str] = frozenset()) -> dict:
        if name not in found:
            folder = tmp_path_factory.mktemp(name)
            found[name] = (
                _episodes(folder) if name == "episodes" else _transform(folder, name, labels)
            )
        return found[name]

    return get


@pytest.fixture(scope="session")
def make_fn_args():
    """`make_fn_args(files, folder, config, base, train_steps)`: a Trainer's `FnArgs`."""
    from tfx.components.trainer.fn_args_utils import FnArgs

    def make(files: dict, folder: Path, config: TrainerConfig, base=None, train_steps=8):
        return FnArgs(
            **files,
            working_dir=str(folder / "working"),
            data_accessor=_data_accessor(),
            serving_model_dir=str(folder / "serving"),
            model_run_dir=str(folder / "model_run"),
            train_steps=train_steps,
            base_model=base,
            custom_config=config.to_custom_config(),
        )

    return make
