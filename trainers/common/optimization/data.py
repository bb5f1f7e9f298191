"""Transformed examples as (inputs by name, label) batches, and int8 calibration data."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any


def transformed_dataset(
    file_pattern: str | Sequence[str],
    feature_spec: Mapping[str, Any],
    label_key: str,
    input_names: Sequence[str],
    batch_size: int,
    shuffle_seed: int | None = None,
):
    """(inputs by name, label) batches of transformed tf.Examples (gzipped TFRecords).

    Args:
        file_pattern: Transform's `transformed_examples` files of one split.
        feature_spec: the transformed feature spec (`TFTransformOutput.transformed_feature_spec`).
        label_key: transformed label key.
        input_names: the Keras model's input names; other features are dropped.
        batch_size: examples per batch.
        shuffle_seed: None reads once in file order (evaluation); a seed shuffles and repeats
            forever (fine-tuning, calibration).

    Returns:
        A `tf.data.Dataset` of ({input name: tensor}, flat label tensor).

    Raises:
        FileNotFoundError: no file matches `file_pattern`.
    """
    import tensorflow as tf

    patterns = [file_pattern] if isinstance(file_pattern, str) else list(file_pattern)
    files = sorted(f for p in patterns for f in tf.io.gfile.glob(p))
    if not files:
        raise FileNotFoundError(f"no transformed examples match {patterns}")
    data = tf.data.TFRecordDataset(files, compression_type="GZIP")
    if shuffle_seed is not None:
        data = data.shuffle(10_000, seed=shuffle_seed).repeat()
    names = list(input_names)

    def parse(serialized):
        features = tf.io.parse_example(serialized, feature_spec)
        return {k: features[k] for k in names}, tf.reshape(features[label_key], [-1])

    return data.batch(batch_size).map(parse)


def representative_dataset(dataset, count: int) -> Callable[[], Iterator[dict]]:
    """The int8 converter's calibration data: `count` single examples of `dataset`.

    Args:
        dataset: (inputs by name, label) batches, shuffled (see `transformed_dataset`).
        count: examples to yield.

    Returns:
        A generator function yielding {input name: array with a batch dimension of 1}.
    """

    def generate():
        for inputs, _ in dataset.unbatch().batch(1).take(count):
            yield {k: v.numpy() for k, v in inputs.items()}

    return generate
