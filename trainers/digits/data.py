"""The offline digits: scikit-learn's bundled 8x8 images, written once as tf.Example TFRecords.

TFRecords (not CSV) make the supervised pipeline use ImportExampleGen: the images enter TFX as
tf.Examples with one `pixels` float feature of 64 values (an 8x8 image, row by row, 0..16) and
an int `label`. A task keeps a subset of the digits with
`TaskSpec.custom_config={"data": {"classes": [0, 1, 2, 3, 4]}}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from trainers.digits.features import CLASSES, IMAGE, LABEL

FILENAME = "data.tfrecord.gz"  # the `.tfrecord` suffix routes the span to ImportExampleGen
COMPRESSION = "GZIP"  # ImportExampleGen detects it from the `.gz` suffix


def load(classes: Iterable[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The digits as (pixels [n, 64] float32, labels [n] int64), in scikit-learn's order.

    Args:
        classes: the digits to keep; None keeps all ten.

    Raises:
        ValueError: a class is not a digit 0..9.

    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels, labels = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    if classes is None:
        return pixels, labels
    keep = sorted({int(c) for c in classes})
    unknown = [c for c in keep if c not in CLASSES]
    if unknown or not keep:
        raise ValueError(f"digits classes {keep}: pick some of 0..9 (got {unknown or 'none'})")
    rows = np.isin(labels, keep)
    return pixels[rows], labels[rows]


def to_example(pixels: np.ndarray, label: int | None = None) -> bytes:
    """One serialized tf.Example: 64 float `pixels` and, unless None, the int `label`."""
    import tensorflow as tf

    feature = {IMAGE: tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(pixels)))}
    if label is not None:
        feature[LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(dest_dir: Path, classes: Iterable[int] | None = None) -> Path:
    """Writes `data.tfrecord.gz` (one tf.Example per image) into `dest_dir`; returns its path.

    Args:
        dest_dir: the span folder being created.
        classes: the digits to keep (from the task's `custom_config['data']`); None keeps all.

    """
    import tensorflow as tf

    pixels, labels = load(classes)
    dest = Path(dest_dir) / FILENAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(dest), tf.io.TFRecordOptions(compression_type=COMPRESSION)) as w:
        for image, label in zip(pixels, labels, strict=True):
            w.write(to_example(image, label))
    return dest


def read(path: Path | str, compression: str = COMPRESSION) -> Iterator[tuple[np.ndarray, int]]:
    """(pixels [64] float32, label or None) for each tf.Example in a TFRecord file."""
    import tensorflow as tf

    for record in tf.data.TFRecordDataset(str(path), compression_type=compression):
        feature = tf.train.Example.FromString(record.numpy()).features.feature
        label = list(feature[LABEL].int64_list.value) if LABEL in feature else []
        pixels = np.asarray(feature[IMAGE].float_list.value, dtype=np.float32)
        yield pixels, (int(label[0]) if label else None)
