"""What a model weighs: weight bytes (raw and gzipped), file sizes, kernel sparsity."""

from __future__ import annotations

import gzip
import os


def weights_bytes(model) -> int:
    """Bytes of the model's weights as stored (float32: 4 per value)."""
    return int(sum(w.shape.num_elements() * w.dtype.size for w in model.weights))


def weights_gzip_bytes(model) -> int:
    """Gzip-compressed size of the weights: what pruning's zeros save in a compressed download."""
    import numpy as np

    blob = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
    return gzip_bytes(blob)


def gzip_bytes(blob: bytes) -> int:
    """Size of `blob` after gzip at the default level."""
    return len(gzip.compress(blob))


def dir_bytes(path: str) -> int:
    """Total size of the files under `path` (local or remote, through tf.io.gfile)."""
    import tensorflow as tf

    total = 0
    for root, _, files in tf.io.gfile.walk(path):
        total += sum(tf.io.gfile.stat(os.path.join(root, f)).length for f in files)
    return int(total)


def sparsity(model) -> float:
    """Fraction of zeros among the model's kernel weights (biases, norms excluded)."""
    import numpy as np

    kernels = [w.numpy() for w in model.weights if "kernel" in w.name]
    total = sum(k.size for k in kernels)
    return float(sum(int(np.sum(k == 0)) for k in kernels) / total) if total else 0.0
