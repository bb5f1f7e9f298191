"""Where a data module's tf.Examples go: `data.tfrecord.gz` files, one per given split.

The `.tfrecord` suffix routes a span to ImportExampleGen and `.gz` tells it the compression;
a dataset that ships its own test set writes `train/`, `eval/` and `test/` folders.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

FILENAME = "data.tfrecord.gz"
COMPRESSION = "GZIP"


def write_splits(dest_dir: Path, splits: Mapping[str, Iterable[bytes]]) -> Path:
    """Writes each split's serialized examples to `dest_dir/SPLIT/FILENAME`; returns `dest_dir`."""
    import tensorflow as tf

    options = tf.io.TFRecordOptions(compression_type=COMPRESSION)
    for split, records in splits.items():
        dest = Path(dest_dir) / split / FILENAME
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tf.io.TFRecordWriter(str(dest), options) as writer:
            for record in records:
                writer.write(record)
    return Path(dest_dir)


def examples(path: Path | str) -> Iterator:
    """The parsed `tf.train.Example` features of each record in one file."""
    import tensorflow as tf

    for record in tf.data.TFRecordDataset(str(path), compression_type=COMPRESSION):
        yield tf.train.Example.FromString(record.numpy()).features.feature
