"""The model manifest (`assets.extra/kfx.json`): what a pushed model takes and gives.

Every exporter writes it with `write` and every reader (`kfx predict`, the RL evaluators, a
teacher's class list) reads it with `read`; no other module knows the file's name or shape.
Its `kind` says how to call the model:

- `EXAMPLES`: `serving_default` takes serialized raw tf.Examples (`features`, `shapes`) and
  returns `prediction`/`score` (per output `<name>_prediction`/`<name>_score`).
- `POLICY`: `serving_default` maps `observations` [batch, obs_dim] to `action` and `score`
  (what the policy rates the action with: a Q-value, a probability).
- `EPISODIC_POLICY`: a policy that plays whole episodes (a Decision Transformer); `model`
  holds what its loader needs.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

FILE = os.path.join("assets.extra", "kfx.json")
EXAMPLES, POLICY, EPISODIC_POLICY = "examples", "policy", "episodic_policy"
KINDS = (EXAMPLES, POLICY, EPISODIC_POLICY)
_LEGACY_KINDS = {"decision_transformer": EPISODIC_POLICY}  # what older exports wrote


@dataclasses.dataclass(frozen=True)
class OutputInfo:
    """One output of a multi-output model, as serving names it."""

    name: str
    label: str
    problem: str


@dataclasses.dataclass(frozen=True)
class Manifest:
    """What a pushed model takes and gives (see the module docstring for `kind`)."""

    kind: str
    """`EXAMPLES`, `POLICY` or `EPISODIC_POLICY`."""
    features: Mapping[str, str]
    """Raw inputs and their type ('INT', 'FLOAT', 'BYTES'); a policy's `obs_<i>` columns."""
    label: str = ""
    """Raw label column (not a serving input)."""
    problem: str = ""
    """'classification', 'regression' or 'control'."""
    classes: tuple[str, ...] | None = None
    """Class names in the order of the model's probabilities (classifiers)."""
    shapes: Mapping[str, tuple[int, ...]] = dataclasses.field(default_factory=dict)
    """Fixed shapes of non-scalar raw inputs (images)."""
    outputs: tuple[OutputInfo, ...] = ()
    """A multi-output model's outputs, main first."""
    env_id: str | None = None
    """Policies: the gymnasium environment they act in."""
    actions: int = 0
    """Policies: the number of discrete actions."""
    score: str = ""
    """Policies: what `score` is (e.g. 'q_value', 'probability')."""
    model: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """Kind-specific loading details (an episodic policy's shape and conditioning)."""

    def __post_init__(self):
        """Normalises JSON values (lists) into the field types."""
        if self.kind not in KINDS:
            raise ValueError(f"model manifest: unknown kind {self.kind!r}; known: {KINDS}")
        outputs = tuple(o if isinstance(o, OutputInfo) else OutputInfo(**o) for o in self.outputs)
        object.__setattr__(self, "outputs", outputs)
        if self.classes is not None:
            object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))
        object.__setattr__(self, "shapes", {k: tuple(v) for k, v in (self.shapes or {}).items()})

    @property
    def is_policy(self) -> bool:
        """Whether the model acts in an environment (rather than scoring examples)."""
        return self.kind in (POLICY, EPISODIC_POLICY)


def to_json(manifest: Manifest) -> str:
    """The manifest as the JSON text of `FILE` (empty fields left out)."""
    data = {}
    for field in dataclasses.fields(manifest):
        value = getattr(manifest, field.name)
        if field.name == "outputs":
            value = [dataclasses.asdict(o) for o in value]
        elif field.name == "shapes":
            value = {k: list(v) for k, v in value.items()}
        elif field.name == "classes" and value is not None:
            value = list(value)
        if value not in (None, "", 0, {}, [], ()) or field.name in ("kind", "features"):
            data[field.name] = value
    return json.dumps(data, indent=2, sort_keys=True)


def from_json(text: str) -> Manifest:
    """Parses `FILE`'s text (also what earlier kfx versions wrote)."""
    data = json.loads(text)
    kind = data.pop("kind", EXAMPLES)
    data["kind"] = _LEGACY_KINDS.get(kind, kind)
    if data["kind"] == EPISODIC_POLICY and "model" not in data:  # the older flat layout
        flat = ("shape", "rtg_scale", "target_return")
        data["model"] = {k: data.pop(k) for k in flat if k in data}
    known = {f.name for f in dataclasses.fields(Manifest)}
    return Manifest(**{k: v for k, v in data.items() if k in known})


def write(model_dir: str, manifest: Manifest) -> str:
    """Writes the manifest into a SavedModel directory (local or remote); returns its path."""
    import tensorflow as tf

    path = os.path.join(model_dir, FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(to_json(manifest))
    return path


def exists(model_dir: str) -> bool:
    """Whether a SavedModel directory has a manifest."""
    import tensorflow as tf

    return tf.io.gfile.exists(os.path.join(str(model_dir), FILE))


def read(model_dir: str) -> Manifest:
    """The manifest of a SavedModel directory (local or remote).

    Raises:
        FileNotFoundError: the directory has no manifest (not a kfx export).
    """
    import tensorflow as tf

    path = os.path.join(str(model_dir), FILE)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"{path}: no kfx model manifest; is this a kfx-exported model?")
    with tf.io.gfile.GFile(path) as handle:
        return from_json(handle.read())
