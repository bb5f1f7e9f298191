"""What a Keras run writes to TensorBoard beyond Keras' own callback: pictures and graphs.

After training, a classifier's confusion matrix on the eval split goes to the `validation`
run as the image `confusion_matrix` (`confusion_matrix/<output>` for each classification
output of a multi-output model), drawn with matplotlib (a plain heat map without it); a
single-output regression's predictions against the truth go there as `forecast_vs_truth`; the
served model's forward graph goes to the `train` run (Keras' callback writes only the
conceptual graph, and a custom loop not even that). The report (components/reporting)
reads both back.
"""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf

IMAGE_TAG = "confusion_matrix"
FORECAST_TAG = "forecast_vs_truth"
FORECAST_POINTS = 200  # eval examples drawn: enough to see a few cycles, few enough to read
EVAL_RUN = "validation"  # the eval split's run directory, as Keras' TensorBoard names it
MAX_CLASSES = 50  # a wider matrix is unreadable as a picture


def confusion(labels, predictions, n_classes: int) -> np.ndarray:
    """counts[true, predicted] of class ids."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(labels, int), np.asarray(predictions, int)), 1)
    return counts


def _heatmap(counts: np.ndarray, cell: int = 16) -> np.ndarray:
    """uint8 [h, w, 3]: counts as shades of blue, without matplotlib."""
    share = counts / max(counts.max(), 1)
    blue = (255 * (1 - 0.8 * share)).astype(np.uint8)
    image = np.stack([blue, blue, np.full_like(blue, 255)], axis=-1)
    return np.kron(image, np.ones((cell, cell, 1), dtype=np.uint8))


def picture(counts: np.ndarray, classes, title: str) -> np.ndarray:
    """uint8 [h, w, 3]: the matrix with class names and counts (matplotlib's Agg backend)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:  # an image without matplotlib still gets a picture
        return _heatmap(counts)
    n = len(counts)
    size = min(2.5 + 0.45 * n, 12)
    fig, ax = plt.subplots(figsize=(size, size), dpi=80)
    ax.imshow(counts, cmap="Blues")
    names = [str(c) for c in classes] if len(classes) == n else [str(i) for i in range(n)]
    ax.set_xticks(range(n), names, rotation=45, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9, wrap=True)
    high = counts.max() / 2 if counts.size else 0
    for (i, j), value in np.ndenumerate(counts):
        ax.text(
            j, i, str(value), ha="center", va="center", color="white" if value > high else "black"
        )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return tf.io.decode_png(buffer.getvalue(), channels=3).numpy()


def _outputs(model_output, heads):
    """{output name: probabilities} of the classification outputs ('' for a single output)."""
    if not heads:
        return {"": model_output}
    if isinstance(model_output, (list, tuple)):
        model_output = dict(zip([h.name for h in heads], model_output, strict=False))
    return {h.name: model_output[h.name] for h in heads if h.problem == "classification"}


def confusion_matrices(model: tf.keras.Model, data, ctx) -> dict[str, np.ndarray]:
    """{output name ('' for a single output): counts} of a classifier on `data` (x, y) batches.

    Empty for a regression model, a context without classes, or data that is not a dataset.
    """
    heads = tuple(getattr(ctx, "heads", ()))
    classified = [h for h in heads if h.problem == "classification"]
    single = not heads and getattr(ctx, "problem", "") == "classification"
    n_classes = getattr(ctx, "n_classes", 0) or (classified[0].n_classes if classified else 0)
    if not (single or classified) or not isinstance(data, tf.data.Dataset) or not n_classes:
        return {}
    found: dict[str, np.ndarray] = {}
    for x, y in data:
        for name, probabilities in _outputs(model(x, training=False), heads).items():
            labels = y[name] if name else y
            width = next((h.n_classes for h in heads if h.name == name), n_classes)
            if width > MAX_CLASSES:
                continue
            predicted = np.argmax(np.asarray(probabilities), axis=-1).reshape(-1)
            counts = confusion(np.asarray(labels).reshape(-1), predicted, width)
            found[name] = found[name] + counts if name in found else counts
    return found


def log_confusion_matrices(model, data, ctx, log_dir: str, step: int) -> dict[str, np.ndarray]:
    """Writes each classification output's matrix on `data` to `log_dir/validation`."""
    found = confusion_matrices(model, data, ctx)
    if not found:
        return found
    classes = tuple(getattr(ctx, "classes", ()))
    writer = tf.summary.create_file_writer(os.path.join(log_dir, EVAL_RUN))
    with writer.as_default():
        for name, counts in found.items():
            tag = f"{IMAGE_TAG}/{name}" if name else IMAGE_TAG
            accuracy = np.trace(counts) / max(counts.sum(), 1)
            title = f"{name or 'eval split'}: accuracy {accuracy:.3f}, {counts.sum()} examples"
            image = picture(counts, classes, title)
            tf.summary.image(tag, image[None], step=step, description=title)
    writer.close()
    return found


def predictions_and_truth(model, data, points: int = FORECAST_POINTS):
    """(predictions, labels) of a single-output regression on the first `points` of `data`."""
    predicted, truth = [], []
    for x, y in data:
        predicted.append(np.asarray(model(x, training=False)).reshape(-1))
        truth.append(np.asarray(y).reshape(-1))
        if sum(len(t) for t in truth) >= points:
            break
    return np.concatenate(predicted)[:points], np.concatenate(truth)[:points]


def line_picture(predicted, truth, title: str) -> np.ndarray:
    """uint8 [h, w, 3]: truth and prediction per example, in order (matplotlib's Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.2), dpi=80)
    ax.plot(truth, label="truth", color="#243b53", linewidth=1.2)
    ax.plot(predicted, label="prediction", color="#e12d39", linewidth=1.0, linestyle="--")
    ax.set_xlabel("eval example (time order within each series)")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return tf.io.decode_png(buffer.getvalue(), channels=3).numpy()


def log_forecast(model, data, ctx, log_dir: str, step: int) -> bool:
    """Writes a single-output regression's predictions against the truth to `validation`.

    For a forecaster on time-ordered eval windows this is the forecast-vs-truth plot.

    Returns:
        False when there is nothing to draw (a classifier, several outputs, arrays).
    """
    if getattr(ctx, "problem", "") != "regression" or getattr(ctx, "heads", ()):
        return False
    if not isinstance(data, tf.data.Dataset):
        return False
    predicted, truth = predictions_and_truth(model, data)
    rmse = float(np.sqrt(np.mean((predicted - truth) ** 2)))
    title = f"eval split, first {len(truth)} examples: RMSE {rmse:.4g}"
    writer = tf.summary.create_file_writer(os.path.join(log_dir, EVAL_RUN))
    with writer.as_default():
        image = line_picture(predicted, truth, title)
        tf.summary.image(FORECAST_TAG, image[None], step=step, description=title)
    writer.close()
    return True


def graph(model: tf.keras.Model, x) -> None:
    """Writes the forward graph of `model` on inputs like `x` to the default summary writer."""
    traced = tf.function(lambda inputs: model(inputs, training=False)).get_concrete_function(x)
    tf.summary.graph(traced.graph)


def log_graph(model: tf.keras.Model, data, log_dir: str) -> bool:
    """Writes the forward graph of `model` on one batch of `data` to `log_dir/train`.

    Returns:
        False when `data` is not a dataset (nothing written).
    """
    if not isinstance(data, tf.data.Dataset):
        return False
    x, _ = next(iter(data))
    writer = tf.summary.create_file_writer(os.path.join(log_dir, "train"))
    with writer.as_default():
        graph(model, x)
    writer.close()
    return True
