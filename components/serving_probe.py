"""The serving check's fresh process: load a SavedModel as TF Serving would, answer raw rows.

`python -m components.serving_probe MODEL_DIR PATTERN OUT.npz [LABEL_KEY ...]` loads the
model with nothing but TensorFlow imported (no task code, no Keras classes, nothing the
exporting process left in memory), sends the serialized tf.Examples of the GZIP TFRecord
files matching PATTERN through `serving_default` in batches, and saves every output
(concatenated in row order) to OUT.npz. LABEL_KEYs are read with the model's
`transform_features` signature, as TFMA reads labels. `rows` holds how many rows went in.
A model that cannot load or answer exits non-zero with the error on stderr.
"""

from __future__ import annotations

import re
import sys

BATCH = 256  # rows per signature call
LABEL_PREFIX = "label:"  # npz key of a transformed label, before its key
ROWS = "rows"  # npz key of the number of rows sent
VERDICT = "serving_probe: "  # prefix of the one stderr line that says why it failed


def answer(model_dir: str, pattern: str, label_keys: list[str]) -> dict:
    """{output key: array over all rows, `label:KEY`: labels, `rows`: row count}."""
    import numpy as np
    import tensorflow as tf

    loaded = tf.saved_model.load(model_dir)
    serve = loaded.signatures["serving_default"]
    transform = loaded.signatures["transform_features"] if label_keys else None
    files = sorted(tf.io.gfile.glob(pattern))
    if not files:
        raise FileNotFoundError(f"{pattern}: no examples to send")
    found: dict[str, list] = {}
    rows = 0
    for batch in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(BATCH):
        rows += int(batch.shape[0])
        for key, value in serve(examples=batch).items():
            found.setdefault(key, []).append(_array(value))
        if transform is not None:
            labels = transform(examples=batch)
            for key in label_keys:
                found.setdefault(LABEL_PREFIX + key, []).append(_array(labels[key]))
    return {
        ROWS: np.asarray(rows),
        **{k: np.concatenate([np.atleast_1d(v) for v in vs]) for k, vs in found.items()},
    }


def _array(tensor):
    """A tensor as numpy; strings as fixed-width bytes (npz loads those without pickle)."""
    import numpy as np

    value = np.asarray(tensor.numpy())
    return value.astype(bytes) if value.dtype == object else value


def summary(err: BaseException) -> str:
    """One line for a failure: TF's innermost `XError: ...` line and the graph node, if any."""
    text = str(err)
    causes = re.findall(r"^\s*(\w+(?:Error|Exception): .+)$", text, flags=re.MULTILINE)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = f"{type(err).__name__}: {causes[-1] if causes else (lines[0] if lines else '')}"
    node = re.search(r"Detected at node (\S+)", text)
    return f"{line} (graph node {node.group(1)})" if node else line


def main(argv: list[str]) -> int:
    """Entry point of the fresh process; exit 0 with OUT.npz written, or 1 and the error."""
    import numpy as np

    model_dir, pattern, out, *label_keys = argv
    try:
        np.savez(out, **answer(model_dir, pattern, label_keys))
    except Exception as err:  # noqa: BLE001 (any failure is the verdict, reported in one line)
        print(VERDICT + summary(err), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
