"""Generated pairs (a number in words, the same number in digits), as tf.Examples.

Numbers 0..999,999 are drawn without replacement, so no number of the test split (nor of
eval) is ever a training pair: the model must compose what it learnt, not recall it. Each
digit count (1 to 6) is equally likely while its numbers last, and each zero digit makes a
number `ZERO_WEIGHT` times likelier: round numbers ('seven thousand') read differently
from the rest and would otherwise be one in a thousand. Zero is always a training pair: no
other number says 'zero', so it is there `ZERO_COPIES` times (a word seen once in 20,000
pairs is not learnt). The same seed gives byte-identical files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from trainers.common.records import FILENAME, examples, write_splits
from trainers.seq2seq.features import LABEL, WORDS
from trainers.seq2seq.numbers import LARGEST, spell

__all__ = ["FILENAME", "draw", "splits", "to_example", "write", "read"]
SIZES = {"train": 20000, "eval": 2000, "test": 2000}
SEED = 7
ZERO_WEIGHT = 4  # a digit is then zero about one time in three (not one in ten)
ZERO_COPIES = 20  # training pairs of 0, spread through the split


def draw(count: int, seed: int = SEED) -> np.ndarray:
    """`count` distinct numbers in 0..LARGEST in random order (weighted as the module says).

    Weighted sampling without replacement by exponential keys (Efraimidis-Spirakis): every
    number gets key Exp(1) / weight and the `count` smallest keys win.
    """
    numbers = np.arange(LARGEST + 1)
    text = numbers.astype(str)
    digit_counts = np.char.str_len(text)
    per_count = np.bincount(digit_counts)[digit_counts]  # how many numbers share its length
    weights = float(ZERO_WEIGHT) ** np.char.count(text, "0") / per_count
    rng = np.random.default_rng(seed)
    keys = rng.exponential(size=numbers.size) / weights
    chosen = np.sort(np.argpartition(keys, count)[:count])
    return rng.permutation(numbers[chosen])  # not key order: that puts the likeliest first


def splits(sizes: dict | None = None, seed: int = SEED, limit: int = 0) -> dict:
    """{train, eval, test: numbers}; `limit` > 0 keeps the first `limit` of each."""
    sizes = {**SIZES, **(sizes or {})}
    numbers = draw(sum(sizes.values()), seed)
    numbers = np.concatenate([[0], numbers[numbers != 0]])[: len(numbers)]  # zero: train
    parts, start = {}, 0
    for split in ("train", "eval", "test"):
        parts[split] = numbers[start : start + sizes[split]]
        start += sizes[split]
    train = parts["train"]
    spread = np.linspace(0, len(train), ZERO_COPIES - 1, endpoint=False).astype(int)
    parts["train"] = np.insert(train, spread, 0) if len(train) else train
    return {k: v[: int(limit)] if limit else v for k, v in parts.items()}


def to_example(number: int | None = None, words: str | None = None) -> bytes:
    """One serialized tf.Example: `words` (default: `number` spelled) and `number`'s digits."""
    import tensorflow as tf

    text = lambda v: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()]))  # noqa: E731
    feature = {WORDS: text(spell(int(number)) if words is None else words)}
    if number is not None:
        feature[LABEL] = text(str(int(number)))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(
    dest_dir: Path, train: int = 0, eval: int = 0, test: int = 0, seed: int = SEED, limit: int = 0
) -> Path:
    """Writes `train/`, `eval/` and `test/` (one `data.tfrecord.gz` each) into `dest_dir`.

    Args:
        dest_dir: the span folder.
        train: training pairs (0: `SIZES`').
        eval: eval pairs (0: `SIZES`').
        test: test pairs (0: `SIZES`').
        seed: which numbers are drawn.
        limit: keep only the first `limit` pairs of each split (tests).
    """
    sizes = {k: int(v) for k, v in {"train": train, "eval": eval, "test": test}.items() if v}
    parts = splits(sizes, int(seed), int(limit))
    return write_splits(dest_dir, {s: map(to_example, ns) for s, ns in parts.items()})


def read(path: Path | str) -> Iterator[tuple[str, str | None]]:
    """(words, digits or None) of each tf.Example in a TFRecord file."""
    for feature in examples(path):
        digits = list(feature[LABEL].bytes_list.value) if LABEL in feature else []
        yield feature[WORDS].bytes_list.value[0].decode(), (digits[0].decode() if digits else None)
