"""Attention maps for TensorBoard: what the first transformer block looks at, per head.

For a Functional model with `attention.TransformerBlock`s (text, ViT, time-series), the
block's inputs are recomputed for the first eval example, its attention weights drawn as one
heat map per head (rows: queries, columns: keys) and written to the `validation` run as
the image `attention_map`. A model with an `attention.DecoderBlock` (seq2seq) also gets
`cross_attention_map`: what each output step of the first decoder block reads of the source.
"""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf

from trainers.common.attention import DecoderBlock, SelfAttention, TransformerBlock, causal_mask

TAG = "attention_map"
CROSS_TAG = "cross_attention_map"
EVAL_RUN = "validation"
MAX_HEADS = 4  # more panels are too small to read


def first_block(model: tf.keras.Model, kind: type = TransformerBlock):
    """The model's first layer of type `kind` (a transformer block by default), or None."""
    return next((layer for layer in model.layers if isinstance(layer, kind)), None)


def _inputs(model: tf.keras.Model, block, x, names: tuple[str, ...]) -> list:
    """`block`'s call arguments in the model (by position or `names`), on the first example."""
    node = block.inbound_nodes[0]  # the block's call in the model: its tensors and mask
    args, kwargs = node.call_args, node.call_kwargs
    wanted = [kwargs.get(n, args[i] if len(args) > i else None) for i, n in enumerate(names)]
    present = [w for w in wanted if w is not None]
    found = tf.keras.Model(model.inputs, present)(x, training=False)
    found = iter(found if isinstance(found, (list, tuple)) else [found])
    return [None if w is None else next(found)[:1] for w in wanted]


def _scores(layer, query, value, mask) -> np.ndarray:
    """The attention weights [heads, queries, keys] of one call of `layer` (first example)."""
    if isinstance(layer, SelfAttention):
        layer(query, value, attention_mask=mask, training=False)
        scores = layer.last_weights
    else:
        _, scores = layer(
            query, value, attention_mask=mask, return_attention_scores=True, training=False
        )
    return np.asarray(scores, dtype=np.float32)[0]


def weights(model: tf.keras.Model, block: TransformerBlock, x) -> np.ndarray:
    """`block`'s attention weights on the first example of `x`: [heads, queries, keys]."""
    tokens, mask = _inputs(model, block, x, ("tokens", "attention_mask"))
    tokens = block.norm_attention(tokens)
    return _scores(block.attention, tokens, tokens, mask)


def cross_weights(model: tf.keras.Model, block: DecoderBlock, x) -> np.ndarray:
    """A decoder block's attention over the encoder on the first example: [heads, T, S]."""
    tokens, memory, mask = _inputs(model, block, x, ("tokens", "memory", "memory_mask"))
    future = causal_mask(tf.shape(tokens)[1])[tf.newaxis]
    h = block.norm_self(tokens)  # the block's first sub-layer, as in its call
    tokens += block.self_attention(h, h, attention_mask=future, training=False)
    return _scores(block.cross_attention, block.norm_cross(tokens), memory, mask)


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


def _write(writer, tag: str, maps: np.ndarray, title: str, step: int) -> None:
    with writer.as_default():
        tf.summary.image(tag, picture(maps, title)[None], step=step, description=title)


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
    writer = tf.summary.create_file_writer(os.path.join(log_dir, EVAL_RUN))
    title = f"{block.name}: attention on the first eval example ({maps.shape[-1]} tokens)"
    _write(writer, TAG, maps, title, step)
    decoder = first_block(model, DecoderBlock)
    if decoder is not None:
        maps = cross_weights(model, decoder, x)
        title = f"{decoder.name}: what each output step reads of the source (first eval example)"
        _write(writer, CROSS_TAG, maps, title, step)
    writer.close()
    return True
