"""Mixed precision: the Keras dtype policy a model is built under (`--set precision=...`).

Layers compute in the policy's dtype and keep float32 variables; the output layer stays
float32 (`keras_trainer.output_layer`), so losses, metrics and the exported signatures are
float32 whatever the policy. mixed_float16 needs loss scaling (`keras_trainer.compile_model`
wraps the optimizer); bfloat16 has float32's range and needs none.
"""

from __future__ import annotations

import contextlib

import tensorflow as tf

NAMES = ("float32", "mixed_bfloat16", "mixed_float16", "auto")


def resolve(name: str) -> str:
    """The Keras policy for `name`: 'auto' is mixed_float16 with a GPU, else float32.

    bfloat16 is not chosen automatically: on a CPU it pays only with bfloat16 instructions
    and a model big enough (this AVX512_BF16 machine: 2x the steps/s of float32 for a 3x512
    MLP, no change for penguin-sized ones; BENCHMARKS.md), at 8 bits of mantissa.

    Raises:
        ValueError: `name` is not one of NAMES.

    """
    if name not in NAMES:
        raise ValueError(f"precision {name!r}: use one of {', '.join(NAMES)}")
    if name == "auto":
        return "mixed_float16" if tf.config.list_physical_devices("GPU") else "float32"
    return name


@contextlib.contextmanager
def policy(name: str):
    """Sets the global Keras dtype policy for the block (models built in it keep it)."""
    previous = tf.keras.mixed_precision.global_policy()
    tf.keras.mixed_precision.set_global_policy(resolve(name))
    try:
        yield tf.keras.mixed_precision.global_policy()
    finally:
        tf.keras.mixed_precision.set_global_policy(previous)
