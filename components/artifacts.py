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
