"""Transformed tf.Examples as a Keras run's data, and their raw-example export.

The default `data` and `export` of a `keras_run.Recipe`: batches of the Transform output's
examples keyed by model input, the data context a builder needs (features, classes, label
statistics of regression outputs), and the SavedModel with raw-example signatures.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import tensorflow as tf

from trainers import contract
from trainers.common import inputs, signatures
from trainers.common.features import LABEL_VOCAB, InputFeatures, xf
from trainers.common.keras_trainer import Context, HeadContext, TrainData

LABEL_STATS_BATCHES = 50  # batches read to estimate a regression label's mean and std


def input_features(
    tf_transform_output, label: str, outputs: Sequence[contract.Head]
) -> InputFeatures:
    """The model inputs: every transformed feature except the labels of all outputs."""
    labels = {label} | {o.label for o in outputs}
    classified = [o.label for o in outputs if o.problem == "classification"]
    # InputFeatures skips one label; a class label left in would need its own vocabulary.
    features = InputFeatures.from_transform_output(
        tf_transform_output, classified[0] if classified else label
    )
    keys = {xf(name) for name in labels}
    return dataclasses.replace(
        features,
        numeric=tuple(k for k in features.numeric if k not in keys),
        categorical={k: v for k, v in features.categorical.items() if k not in keys},
    )


def _stats(values: tf.Tensor) -> tuple[float, float]:
    std = float(tf.math.reduce_std(values))
    return float(tf.reduce_mean(values)), std if std > 0 else 1.0


def _concat(batches: list, head: str | None) -> tf.Tensor:
    """One head's labels (or the single label) of sampled batches, as one float vector."""
    values = [y if head is None else y[head] for y in batches]
    return tf.cast(tf.reshape(tf.concat(values, axis=0), [-1]), tf.float32)


def head_context(head: contract.Head, n_classes: int, sample: list) -> HeadContext:
    """A pipeline's output with its class count, or its label statistics over `sample`."""
    if head.problem == "classification":
        return HeadContext(head.name, head.label, head.problem, n_classes)
    return HeadContext(head.name, head.label, head.problem, 0, *_stats(_concat(sample, head.name)))


def load(fn_args, config: contract.TrainerConfig, hp) -> TrainData:
    """The Trainer's transformed train and eval examples and the builder's context.

    Args:
        fn_args: the TFX Trainer's (or Tuner's) FnArgs.
        config: what the pipeline handed the trainer.
        hp: the effective hyper-parameters (`batch_size`, `seed`).

    """
    import tensorflow_transform as tft

    label, problem, outputs = config.label, config.problem, config.outputs
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    features = input_features(tf_transform_output, label, outputs)
    other_labels = tuple(sorted({xf(o.label) for o in outputs} - {xf(label)}))

    def split(x, y):  # (inputs, {output name: its label}); outputs may share a label
        labels = {**{k: x[k] for k in other_labels}, xf(label): y}
        return {k: x[k] for k in features.keys}, {o.name: labels[xf(o.label)] for o in outputs}

    def data(files, epochs):
        batches = inputs.dataset(
            files,
            fn_args.data_accessor,
            tf_transform_output,
            xf(label),
            features.keys + other_labels,
            hp.batch_size,
            num_epochs=epochs,
            seed=hp.seed,
        )
        return batches.map(split) if outputs else batches

    train, val = data(fn_args.train_files, None), data(fn_args.eval_files, 1)
    problems = {problem} | {o.problem for o in outputs}
    classes: tuple[str, ...] = ()
    if "classification" in problems:
        vocabulary = tf_transform_output.vocabulary_by_name(LABEL_VOCAB)
        classes = tuple(c.decode() if isinstance(c, bytes) else str(c) for c in vocabulary)
    sample = [y for _, y in train.take(LABEL_STATS_BATCHES)] if "regression" in problems else []
    heads = tuple(head_context(o, len(classes), sample) for o in outputs)
    common = {"heads": heads, "classes": classes, "base_model": fn_args.base_model or None}
    if problem == "regression":
        mean, std = _stats(_concat(sample, heads[0].name if heads else None))
        ctx = Context(features, problem, 0, mean, std, **common)
    else:  # a classification, or a sequence (its recipe knows its target ids)
        ctx = Context(features, problem, len(classes), **common)
    return TrainData(ctx, train, val, config, tf_transform_output)


def export(model, serving_dir: str, data: TrainData, hp=None, input_keys=None) -> None:
    """The SavedModel with raw-example signatures and its manifest (`signatures.export`).

    Args:
        model: the model to serve.
        serving_dir: `fn_args.serving_model_dir`.
        data: what the run trained on (`load`'s).
        hp: the effective hyper-parameters (unused; a recipe's `export` may need them).
        input_keys: the transformed features the model takes (None: a Functional model's).

    """
    del hp  # the raw-example export depends on the data alone
    signatures.export(
        model,
        serving_dir,
        data.transform_output,
        data.config.label,
        data.config.problem,
        input_keys=input_keys,
        outputs=data.ctx.heads,
    )
