"""Fashion-MNIST from its IDX files, written once as tf.Example TFRecords in given splits.

The files are read from `data_dir` when one is given (`kfx run TASK --set data_dir=...`),
otherwise from Keras' download cache (`~/.keras/datasets/fashion-mnist`) and where Debian's
`dataset-fashion-mnist` package installs them, in that order. Nothing is downloaded. The
official 10,000 test images are the `test` split; the last `eval_size` training images (a
fixed slice, the same in every run) are `eval`, the rest `train`.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from trainers.common.records import FILENAME, examples, write_splits
from trainers.fashion_mnist.features import HEIGHT, IMAGE, LABEL, WIDTH

__all__ = ["FILENAME", "locate", "load", "splits", "to_example", "write", "read"]
KERAS_CACHE = Path("~/.keras/datasets/fashion-mnist")
DEBIAN = Path("/usr/share/datasets/fashion-mnist")
APT = "apt-get install dataset-fashion-mnist"
FILES = {  # official part → (images file, labels file)
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049  # IDX headers: uint8 data, 3 and 1 dimensions
EVAL_SIZE = 5000  # the eval split: the last 5,000 of the 60,000 training images


def candidates(data_dir: str | Path = "") -> list[Path]:
    """Folders searched for the IDX files, in order: `data_dir` alone when one is given."""
    if data_dir:  # a folder the user named is never silently replaced by another copy
        return [Path(data_dir).expanduser()]
    return [KERAS_CACHE.expanduser(), DEBIAN]


def locate(data_dir: str | Path = "") -> Path:
    """The first folder holding all four IDX files.

    Raises:
        FileNotFoundError: none does; the message names the folders and the apt package.

    """
    names = [name for pair in FILES.values() for name in pair]
    for folder in candidates(data_dir):
        if all((folder / name).is_file() for name in names):
            return folder
    if data_dir:
        missing = [n for n in names if not (Path(data_dir).expanduser() / n).is_file()]
        where = f"{data_dir} lacks {', '.join(missing)}"
    else:
        where = "no Fashion-MNIST IDX files found"
    searched = ", ".join(str(p) for p in candidates(data_dir))
    raise FileNotFoundError(
        f"{where} (searched {searched}): run `{APT}`, or point --set data_dir=FOLDER at "
        "the four *-ubyte.gz files"
    )


def read_idx(path: Path, magic: int) -> np.ndarray:
    """The uint8 array of one gzipped IDX file, shaped by its header.

    Raises:
        ValueError: not an IDX file of the expected kind (the message names it).

    """
    raw = gzip.open(path).read()
    head = np.frombuffer(raw[:4], dtype=">u4")[0] if len(raw) >= 4 else 0
    if head != magic:
        raise ValueError(
            f"{path}: not a gzipped IDX file of uint8 "
            f"{'images' if magic == IMAGES_MAGIC else 'labels'} (magic {head}, expected {magic})"
        )
    dims = int(magic & 0xFF)
    shape = tuple(int(d) for d in np.frombuffer(raw[4 : 4 + 4 * dims], dtype=">u4"))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, file holds {data.size} bytes")
    return data.reshape(shape)


def load(part: str, data_dir: str | Path = "") -> tuple[np.ndarray, np.ndarray]:
    """(images [n, 28, 28] uint8, labels [n] int64) of the official `train` or `test` part.

    Raises:
        ValueError: the images and labels disagree in count or size.

    """
    folder = locate(data_dir)
    images_file, labels_file = (folder / name for name in FILES[part])
    images = read_idx(images_file, IMAGES_MAGIC)
    labels = read_idx(labels_file, LABELS_MAGIC).astype(np.int64)
    if images.shape[1:] != (HEIGHT, WIDTH) or len(images) != len(labels):
        raise ValueError(
            f"{images_file}: {images.shape} images for {len(labels)} labels; expected "
            f"[n, {HEIGHT}, {WIDTH}] with one label each"
        )
    return images, labels


def splits(
    data_dir: str | Path = "", limit: int = 0, eval_size: int = EVAL_SIZE
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{train, eval, test: (images, labels)}; `limit` > 0 keeps the first `limit` of each."""
    images, labels = load("train", data_dir)
    cut = len(images) - eval_size
    if cut <= 0:
        raise ValueError(f"eval_size={eval_size}: must be below the {len(images)} train images")
    parts = {
        "train": (images[:cut], labels[:cut]),
        "eval": (images[cut:], labels[cut:]),
        "test": load("test", data_dir),
    }
    if limit:
        parts = {k: (x[:limit], y[:limit]) for k, (x, y) in parts.items()}
    return parts


def to_example(image: np.ndarray, label: int | None = None) -> bytes:
    """One serialized tf.Example: 784 int `pixels` and, unless None, the int `label`."""
    import tensorflow as tf

    values = np.ravel(image).astype(np.int64)
    feature = {IMAGE: tf.train.Feature(int64_list=tf.train.Int64List(value=values))}
    if label is not None:
        feature[LABEL] = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(dest_dir: Path, data_dir: str = "", limit: int = 0, eval_size: int = EVAL_SIZE) -> Path:
    """Writes `train/`, `eval/` and `test/` (one `data.tfrecord.gz` each) into `dest_dir`.

    Args:
        dest_dir: the span folder being created.
        data_dir: a folder with the four IDX files (searched before the usual places).
        limit: keep the first `limit` images of each split (0: all); tests use a few hundred.
        eval_size: training images held out, from the end, as the eval split.

    Returns:
        `dest_dir`.

    """
    parts = splits(data_dir, int(limit), int(eval_size))
    return write_splits(
        dest_dir,
        {
            split: (to_example(image, label) for image, label in zip(*pair, strict=True))
            for split, pair in parts.items()
        },
    )


def read(path: Path | str) -> Iterator[tuple[np.ndarray, int | None]]:
    """(pixels [784] int64, label or None) for each tf.Example in a TFRecord file."""
    for feature in examples(path):
        label = list(feature[LABEL].int64_list.value) if LABEL in feature else []
        pixels = np.asarray(feature[IMAGE].int64_list.value, dtype=np.int64)
        yield pixels, (int(label[0]) if label else None)
