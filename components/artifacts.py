"""Small helpers every custom component uses on artifacts: JSON files and custom properties.

Files go through `tf.io.gfile`, so an artifact URI may be local or remote (gs://, ram://).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping


def write_json(folder: str, name: str, data) -> str:
    """Writes `data` as indented JSON to `folder/name` (creating `folder`); returns the path."""
    import tensorflow as tf

    tf.io.gfile.makedirs(folder)
    path = os.path.join(folder, name)
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(data, indent=2))
    return path


def read_json(path: str):
    """The JSON in `path` (local or remote).

    Raises:
        FileNotFoundError: `path` does not exist.
    """
    import tensorflow as tf

    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{path}: missing")
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)


def set_properties(artifact, values: Mapping[str, str | int | float]) -> None:
    """Sets each value as a string, int or float custom property of `artifact`."""
    for key, value in values.items():
        if isinstance(value, str):
            artifact.set_string_custom_property(key, value)
        elif isinstance(value, bool | int):
            artifact.set_int_custom_property(key, int(value))
        else:
            artifact.set_float_custom_property(key, float(value))


ABSENT_FILE = "ABSENT.txt"  # in a Model artifact that a lookup found nothing for


def mark_absent(folder: str, why: str) -> None:
    """Marks an output artifact as holding nothing (an orchestrator always creates one)."""
    import tensorflow as tf

    tf.io.gfile.makedirs(folder)
    with tf.io.gfile.GFile(os.path.join(folder, ABSENT_FILE), "w") as handle:
        handle.write(why + "\n")


def present(artifact):
    """`artifact`, or None when it is missing or marked absent by a lookup.

    A Model that is neither marked absent nor holds a SavedModel stays `artifact`: its
    reader fails closed on it.
    """
    import tensorflow as tf

    if artifact is None or tf.io.gfile.exists(os.path.join(artifact.uri, ABSENT_FILE)):
        return None
    return artifact


def copy_tree(source: str, destination: str) -> int:
    """Copies every file under `source` to `destination` (local or remote); returns the count."""
    import tensorflow as tf

    copied = 0
    for folder, _, files in tf.io.gfile.walk(source):
        target = os.path.join(destination, os.path.relpath(folder, source))
        tf.io.gfile.makedirs(target)
        for name in files:
            tf.io.gfile.copy(os.path.join(folder, name), os.path.join(target, name), overwrite=True)
            copied += 1
    return copied
