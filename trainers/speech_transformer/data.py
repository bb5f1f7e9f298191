"""The synthesised spoken digits (synth.py), written once as tf.Example TFRecords in given splits.

The splits are by speaker: 18 + 40 voices train, 6 others pick the checkpoint (`eval`) and
the last 6 are `test`, so every reported value is on voices the model never heard. Each
split holds each of its speakers saying each digit at every speed and pitch (12 clips per
digit per speaker), 8,400 clips in all. `extra_voices` is how many of the 40 train-only
voices (`synth.TRAIN_SPEAKERS`) join the 18; `limit` > 0 keeps the first `limit` clips of
each split (every digit is in any first ten). Both are for tests: eval and test do not
change with either.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from trainers.common.records import FILENAME, examples, write_splits
from trainers.spec import SPLITS
from trainers.speech_transformer import synth
from trainers.speech_transformer.features import LABEL, WAVEFORM

__all__ = ["FILENAME", "splits", "to_example", "write", "read"]

EXTRA = len(synth.TRAIN_SPEAKERS)


def splits(limit: int = 0, extra_voices: int = EXTRA) -> dict[str, list[synth.Clip]]:
    """{train, eval, test: the clips of that split's speakers}, each cut to `limit` if > 0."""
    speakers = synth.SPEAKERS + synth.TRAIN_SPEAKERS[: int(extra_voices)]
    parts = {
        split: synth.clips([s for s in speakers if synth.split_of(s) == split]) for split in SPLITS
    }
    return {k: v[: int(limit)] if int(limit) else v for k, v in parts.items()}


def to_example(waveform: np.ndarray, word: str | None = None) -> bytes:
    """One serialized tf.Example: the waveform's floats and, unless None, the word said."""
    import tensorflow as tf

    feature = {WAVEFORM: tf.train.Feature(float_list=tf.train.FloatList(value=np.ravel(waveform)))}
    if word is not None:
        feature[LABEL] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[word.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write(dest_dir: Path, limit: int = 0, workers: int = 0, extra_voices: int = EXTRA) -> Path:
    """Synthesises the clips and writes `train/`, `eval/` and `test/` into `dest_dir`.

    Raises:
        FileNotFoundError: espeak-ng or sox is not installed (the message says how to).
    """
    parts = splits(limit, extra_voices)
    made = synth.waveforms([c for part in parts.values() for c in part], int(workers))
    records, start = {}, 0
    for split, part in parts.items():
        pairs = zip(made[start : start + len(part)], part, strict=True)
        records[split] = [to_example(w, c.word) for w, c in pairs]
        start += len(part)
    return write_splits(dest_dir, records)


def read(path: Path | str) -> Iterator[tuple[np.ndarray, str | None]]:
    """(waveform, word or None) of each tf.Example in a TFRecord file."""
    for feature in examples(path):
        word = list(feature[LABEL].bytes_list.value) if LABEL in feature else []
        wave = np.array(feature[WAVEFORM].float_list.value, np.float32)
        yield wave, (word[0].decode() if word else None)
