"""Fashion-MNIST data module: where the IDX files are found, how they are read and split."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipelines.home import Home
from pipelines.tasks import builtin, get
from trainers.fashion_mnist import data
from trainers.fashion_mnist.features import IMAGE, LABEL
from trainers.spec import SCHEMAS_DIR

SCHEMA = SCHEMAS_DIR / "fashion_mnist" / "schema.pbtxt"


def _idx(path, array: np.ndarray, magic: int):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb") as out:
        out.write(header + array.astype(np.uint8).tobytes())


def fixture_dir(folder, train: int = 30, test: int = 10):
    """Four IDX files in the official layout; image i is filled with i % 256, label i % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", train), ("test", test)):
        images = np.stack([np.full((28, 28), i % 256) for i in range(n)])
        images_file, labels_file = data.FILES[part]
        _idx(folder / images_file, images, data.IMAGES_MAGIC)
        _idx(folder / labels_file, np.arange(n) % 10, data.LABELS_MAGIC)
    return folder


@pytest.fixture
def no_system_copies(monkeypatch, tmp_path):
    """The Keras cache and the Debian path point at empty folders."""
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "keras-cache")
    monkeypatch.setattr(data, "DEBIAN", tmp_path / "debian")


def test_data_dir_alone_else_keras_cache_then_debian(tmp_path, no_system_copies):
    mine = fixture_dir(tmp_path / "mine")
    fixture_dir(data.DEBIAN)
    assert data.locate(mine) == mine
    assert data.locate() == data.DEBIAN
    fixture_dir(data.KERAS_CACHE)
    assert data.locate() == data.KERAS_CACHE
    with pytest.raises(FileNotFoundError, match="nowhere lacks"):  # never another copy
        data.locate(tmp_path / "nowhere")


def test_missing_files_name_the_apt_package_and_the_folders(tmp_path, no_system_copies):
    with pytest.raises(FileNotFoundError) as err:
        data.locate()
    assert "apt-get install dataset-fashion-mnist" in str(err.value)
    assert str(data.DEBIAN) in str(err.value) and "data_dir" in str(err.value)
    partial = fixture_dir(tmp_path / "partial")
    (partial / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.gz"):
        data.locate(partial)


def test_a_file_that_is_not_idx_is_named(tmp_path, no_system_copies):
    folder = fixture_dir(tmp_path / "bad")
    labels = folder / data.FILES["train"][1]
    _idx(labels, np.arange(30) % 10, data.IMAGES_MAGIC)  # images magic on a labels file
    with pytest.raises(ValueError, match=f"{labels}: not a gzipped IDX file of uint8 labels"):
        data.load("train", folder)
    _idx(labels, np.arange(29) % 10, data.LABELS_MAGIC)
    with pytest.raises(ValueError, match="29 labels"):
        data.load("train", folder)


def test_eval_is_the_end_of_train_and_test_the_official_set(tmp_path, no_system_copies):
    folder = fixture_dir(tmp_path / "f", train=30, test=10)
    parts = data.splits(folder, eval_size=5)
    assert {k: len(v[1]) for k, v in parts.items()} == {"train": 25, "eval": 5, "test": 10}
    assert parts["eval"][0][0, 0, 0] == 25 and parts["test"][0][3, 0, 0] == 3
    limited = data.splits(folder, limit=4, eval_size=5)
    assert {k: len(v[1]) for k, v in limited.items()} == {"train": 4, "eval": 4, "test": 4}
    with pytest.raises(ValueError, match="eval_size=30"):
        data.splits(folder, eval_size=30)


def test_write_then_read_round_trips_each_split(tmp_path, no_system_copies):
    folder = fixture_dir(tmp_path / "f", train=12, test=6)
    span = data.write(tmp_path / "span-1", data_dir=str(folder), eval_size=4)
    read = {
        split: list(data.read(span / split / data.FILENAME)) for split in ("train", "eval", "test")
    }
    assert [len(v) for v in read.values()] == [8, 4, 6]
    pixels, label = read["eval"][1]
    assert pixels.shape == (784,) and pixels.dtype == np.int64
    assert set(pixels) == {9} and label == 9


def test_every_fashion_task_declares_given_splits_and_this_schema(tmp_path):
    names = [n for n, s in builtin().items() if s.data == "trainers.fashion_mnist.data"]
    assert {"fashion_mlp", "cnn_vgg", "cnn_resnet", "transfer", "distill"} <= set(names)
    for name in names:
        spec = get(name, Home(tmp_path))
        assert spec.schema_path == SCHEMA and spec.given_splits


def test_schema_fixes_the_image_shape_and_the_int_range():
    from tensorflow_transform.tf_metadata import schema_utils

    schema = text_format.Parse(SCHEMA.read_text(), schema_pb2.Schema())
    spec = schema_utils.schema_as_feature_spec(schema).feature_spec
    assert spec[IMAGE] == tf.io.FixedLenFeature([28, 28], tf.int64)
    assert spec[LABEL] == tf.io.FixedLenFeature([], tf.int64)
    pixels = next(f for f in schema.feature if f.name == IMAGE)
    assert (pixels.int_domain.min, pixels.int_domain.max) == (0, 255)


def test_the_installed_files_hold_the_official_counts():
    """.ci/run installs Debian's dataset-fashion-mnist; without it this names the package."""
    parts = data.splits()
    assert {k: v[0].shape for k, v in parts.items()} == {
        "train": (55000, 28, 28),
        "eval": (5000, 28, 28),
        "test": (10000, 28, 28),
    }
    assert np.bincount(parts["test"][1]).tolist() == [1000] * 10
