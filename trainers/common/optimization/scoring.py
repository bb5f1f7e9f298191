"""Accuracy or RMSE of a Keras or a TFLite model on (inputs by name, label) batches."""

from __future__ import annotations


def score(predictions, labels, problem: str) -> float:
    """Accuracy of class probabilities, or RMSE of regressed values."""
    import numpy as np

    predictions, labels = np.asarray(predictions), np.asarray(labels).reshape(-1)
    if problem == "classification":
        return float(np.mean(predictions.reshape(len(labels), -1).argmax(-1) == labels))
    return float(np.sqrt(np.mean((predictions.reshape(-1) - labels) ** 2)))


def metric_name(problem: str) -> str:
    """The metric `score` computes for `problem`."""
    return "accuracy" if problem == "classification" else "rmse"


def keras_score(model, dataset, problem: str) -> float:
    """`score` of a Keras model (first output) over every batch of `dataset`."""
    import numpy as np

    predictions, labels = [], []
    for inputs, label in dataset:
        out = model(inputs, training=False)
        predictions.append(np.asarray(out[0] if isinstance(out, list | tuple) else out))
        labels.append(label.numpy())
    return score(np.concatenate(predictions), np.concatenate(labels), problem)


def tflite_score(blob: bytes, dataset, problem: str, output: str | None = None) -> float:
    """`score` of a TFLite model run through its `serving_default` signature.

    Args:
        blob: the TFLite flatbuffer.
        dataset: (inputs by name, label) batches; input names are the signature's.
        problem: 'classification' or 'regression'.
        output: signature output to score (default: the only one, else the first by name).

    Returns:
        The accuracy or RMSE over every batch of `dataset`.
    """
    import numpy as np
    import tensorflow as tf

    runner = tf.lite.Interpreter(model_content=blob).get_signature_runner()
    predictions, labels = [], []
    for inputs, label in dataset:
        out = runner(**{k: v.numpy() for k, v in inputs.items()})
        predictions.append(out[output] if output in out else out[sorted(out)[0]])
        labels.append(label.numpy())
    return score(np.concatenate(predictions), np.concatenate(labels), problem)
