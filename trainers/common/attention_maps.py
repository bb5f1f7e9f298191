"""Attention maps for TensorBoard: what the first transformer block looks at, per head.

For a Functional model with `attention.TransformerBlock`s (text, ViT, time-series), the
block's inputs are recomputed for the first eval example, its attention weights drawn as one
heat map per head (rows: queries, columns: keys) and written to the `validation` run as
the image `attention_map`.
"""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf

from trainers.common.attention import SelfAttention, TransformerBlock

TAG = "attention_map"
EVAL_RUN = "validation"
MAX_HEADS = 4  # more panels are too small to read


def first_block(model: tf.keras.Model) -> TransformerBlock | None:
    """The model's first transformer block, or None."""
    return next((layer for layer in model.layers if isinstance(layer, TransformerBlock)), None)


def weights(model: tf.keras.Model, block: TransformerBlock, x) -> np.ndarray:
    """`block`'s attention weights on the first example of `x`: [heads, queries, keys]."""
    node = block.inbound_nodes[0]  # the block's call in the model: its tokens and mask
    args, kwargs = node.call_args, node.call_kwargs
    mask = kwargs.get("attention_mask", args[1] if len(args) > 1 else None)
    wanted = [args[0]] + ([] if mask is None else [mask])
    found = tf.keras.Model(model.inputs, wanted)(x, training=False)
    found = found if isinstance(found, (list, tuple)) else [found]
    tokens, mask = found[0], (found[1] if len(found) > 1 else None)
    tokens = block.norm_attention(tokens[:1])
    mask = None if mask is None else mask[:1]
    if isinstance(block.attention, SelfAttention):
        block.attention(tokens, tokens, attention_mask=mask, training=False)
        scores = block.attention.last_weights
    else:
        _, scores = block.attention(
            tokens, tokens, attention_mask=mask, return_attention_scores=True, training=False
        )
    return np.asarray(scores, dtype=np.float32)[0]


def picture(maps: np.ndarray, title: str) -> np.ndarray:
    """uint8 [h, w, 3]: one heat map per head (matplotlib's Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    heads = min(len(maps), MAX_HEADS)
    fig, axes = plt.subplots(1, heads, figsize=(3.2 * heads, 3.4), dpi=80, squeeze=False)
    for head, ax in enumerate(axes[0]):
        ax.imshow(maps[head], cmap="viridis", vmin=0.0)
        ax.set_title(f"head {head}", fontsize=9)
        ax.set_xlabel("key")
        ax.set_ylabel("query")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return tf.io.decode_png(buffer.getvalue(), channels=3).numpy()


def log(model: tf.keras.Model, data, log_dir: str, step: int) -> bool:
    """Writes the first block's attention on the first eval example to `log_dir/validation`.

    Returns:
        False when there is nothing to draw (no transformer block, a model that is not
        Functional, data that is not a dataset).
    """
    block = first_block(model)
    if block is None or not isinstance(data, tf.data.Dataset) or not model._is_graph_network:
        return False
    x, _ = next(iter(data))
    maps = weights(model, block, x)
    title = f"{block.name}: attention on the first eval example ({maps.shape[-1]} tokens)"
    writer = tf.summary.create_file_writer(os.path.join(log_dir, EVAL_RUN))
    with writer.as_default():
        tf.summary.image(TAG, picture(maps, title)[None], step=step, description=title)
    writer.close()
    return True
