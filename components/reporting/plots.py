"""The report's plots: matplotlib (Agg) figures as PNG bytes; None where matplotlib is missing."""

from __future__ import annotations

import io

MAX_CURVES = 12  # tags plotted; the rest are in TensorBoard
# Tags first in the grid: the losses and metrics Keras logs per epoch, then the RL charts.
FIRST = ("epoch_loss", "epoch_accuracy", "epoch_rmse", "epoch_lr", "charts/episodic_return")


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot
    except ImportError:
        return None
    return pyplot


def _png(plt, fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def curve_tags(scalars: dict) -> list[str]:
    """The tags to plot, the usual ones first."""
    ordered = [t for t in FIRST if t in scalars] + sorted(t for t in scalars if t not in FIRST)
    return ordered[:MAX_CURVES]


def learning_curves(scalars: dict) -> bytes | None:
    """One panel per tag ({tag: {run: [(step, value)]}}), one line per TensorBoard run."""
    plt = _pyplot()
    tags = curve_tags(scalars)
    if plt is None or not tags:
        return None
    columns = min(3, len(tags))
    rows = (len(tags) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False)
    for ax, tag in zip(axes.flat, tags, strict=False):
        for run, points in sorted(scalars[tag].items()):
            points = sorted(points)
            steps, values = [p[0] for p in points], [p[1] for p in points]
            ax.plot(steps, values, marker="." if len(points) < 30 else None, label=run)
        ax.set_title(tag, fontsize=10)
        ax.set_xlabel("step" if not tag.startswith("epoch_") else "epoch", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if len(scalars[tag]) > 1:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(tags) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(plt, fig)


def returns_histogram(record: dict) -> bytes | None:
    """Episode returns of the candidate, the baseline and the random policy, overlaid."""
    plt = _pyplot()
    if plt is None or not record.get("returns"):
        return None
    fig, ax = plt.subplots(figsize=(6, 3))
    series = [
        ("candidate", record.get("returns")),
        ("baseline", record.get("baseline_returns")),
        ("random policy", record.get("random_returns")),
    ]
    for name, values in series:
        if values:
            mean = sum(values) / len(values)
            ax.hist(values, bins=20, alpha=0.55, label=f"{name} (mean {mean:.1f})")
    if record.get("threshold") is not None:
        ax.axvline(record["threshold"], color="black", linestyle="--", label="threshold")
    ax.set_xlabel("episode return")
    ax.set_ylabel("episodes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _png(plt, fig)
