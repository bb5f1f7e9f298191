"""Input functions: batches of transformed tf.Examples keyed by model input."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
from tfx_bsl.public import tfxio


def dataset(
    file_pattern: Sequence[str],
    data_accessor,
    tf_transform_output,
    label_key: str,
    keys: Sequence[str],
    batch_size: int,
    num_epochs: int | None = None,
    seed: int | None = None,
) -> tf.data.Dataset:
    """(features, label) batches of transformed examples.

    Args:
        file_pattern: transformed example files (`fn_args.train_files` / `eval_files`).
        data_accessor: `fn_args.data_accessor`.
        tf_transform_output: the Transform output of this run.
        label_key: transformed label key.
        keys: model input keys; other transformed features are dropped.
        batch_size: examples per batch.
        num_epochs: None repeats forever (training); 1 reads once (evaluation).
        seed: shuffle seed (training only).

    """
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=batch_size,
        label_key=label_key,
        num_epochs=num_epochs,
        shuffle=num_epochs is None,
        shuffle_seed=seed,
    )
    data = data_accessor.tf_dataset_factory(
        file_pattern, options, tf_transform_output.transformed_metadata.schema
    )
    keys = list(keys)
    return data.map(lambda features, label: ({k: features[k] for k in keys}, label))
