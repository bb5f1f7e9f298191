"""ServingCheck: a model that cannot load, answers wrongly shaped or disagrees is not pushed.

The SavedModels here are small `tf.Module`s with the two signatures kfx exports, loaded by the
real probe in a real fresh process; one hides its answer in a `tf.py_function`, which works
in the process that saved it (as the Evaluator saw it) and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf
from tfx.types.standard_artifacts import Examples, Model, ModelBlessing
from tfx.utils import path_utils

from components import gate, serving_check
from components.serving_check import Served

CLASSES = [b"neg", b"pos"]
SERVED = Served(
    key="accuracy",
    metric="accuracy",
    scored="probabilities",
    label_key="y_xf",
    answers=("probabilities", "prediction", "score"),
)
X = np.array([2.0, -1.0, 0.5, -3.0, 1.5, -0.2, 4.0, -2.5])
Y = np.array([1, 0, 1, 0, 0, 0, 1, 1])  # the model (sign of x) gets 6 of 8 right
ACCURACY = 0.75


class Toy(tf.Module):
    """`serving_default` (class from the sign of `x`) and `transform_features` (label `y`)."""

    def __init__(self, broken: str = ""):
        super().__init__()
        self.broken = broken
        self.classes = tf.constant(CLASSES)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(self, examples):
        x = tf.io.parse_example(examples, {"x": tf.io.FixedLenFeature([], tf.float32)})["x"]
        probabilities = tf.nn.softmax(tf.stack([-x, x], axis=-1))
        if self.broken == "py_function":  # answers only where the saving process still runs
            probabilities = tf.py_function(tf.identity, [probabilities], tf.float32)
            probabilities.set_shape([None, 2])
        if self.broken == "one_row":
            probabilities = probabilities[:1]
        if self.broken == "flipped":
            probabilities = tf.reverse(probabilities, axis=[-1])
        best = tf.argmax(probabilities, axis=-1)
        return {
            "probabilities": probabilities,
            "prediction": tf.gather(self.classes, best),
            "score": tf.reduce_max(probabilities, axis=-1),
        }

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        spec = {"y": tf.io.FixedLenFeature([], tf.int64)}
        return {"y_xf": tf.io.parse_example(examples, spec)["y"]}


def _save(folder, broken: str = "") -> str:
    toy = Toy(broken)
    signatures = {"serving_default": toy.serve, "transform_features": toy.transform_features}
    tf.saved_model.save(toy, str(folder), signatures=signatures)
    return str(folder)


def _examples(root) -> str:
    """A raw Examples folder whose test split holds the rows X, Y; returns its URI."""
    split = root / "Split-test"
    split.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(split / "data.gz"), options="GZIP") as writer:
        for x, y in zip(X, Y, strict=True):
            features = {
                "x": tf.train.Feature(float_list=tf.train.FloatList(value=[x])),
                "y": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(y)])),
            }
            writer.write(
                tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()
            )
    return str(root)


def _answers(**overrides) -> dict:
    """What the probe returns for the toy model on X, Y, with some answers replaced."""
    probabilities = np.stack([np.exp(-X), np.exp(X)], -1) / (np.exp(-X) + np.exp(X))[:, None]
    answers = {
        "rows": np.asarray(len(X)),
        "probabilities": probabilities,
        "prediction": np.array([CLASSES[int(x > 0)] for x in X]),
        "score": probabilities.max(-1),
        "label:y_xf": Y,
    }
    return {**answers, **overrides}


def test_answers_that_match_the_evaluator_pass():
    failures, values = serving_check.judge([SERVED], _answers(), {"accuracy": ACCURACY})
    assert failures == [] and values == {"accuracy": ACCURACY}


def test_a_disagreeing_metric_is_refused_beyond_one_example():
    # One example in 8 is the batching allowance; two are a different model.
    assert serving_check.judge([SERVED], _answers(), {"accuracy": ACCURACY + 0.125})[0] == []
    failures, _ = serving_check.judge([SERVED], _answers(), {"accuracy": 1.0})
    assert failures == ["accuracy of its answers is 0.75 on 8 test rows; the Evaluator measured 1"]


def test_missing_short_nan_and_flat_answers_are_refused():
    answers = _answers()
    del answers["score"]
    assert serving_check.judge([SERVED], answers, {})[0] == [
        "serving_default returns no 'score' (it returns prediction, probabilities)"
    ]
    short = _answers(prediction=np.array([b"pos"]))
    assert serving_check.judge([SERVED], short, {})[0] == ["'prediction' has 1 answers for 8 rows"]
    nan = _answers(score=np.full(len(X), np.nan))
    assert serving_check.judge([SERVED], nan, {})[0] == ["'score' has NaN or infinite answers"]
    flat = _answers(probabilities=np.zeros(len(X)))
    assert serving_check.judge([SERVED], flat, {})[0] == [
        "'probabilities' has shape (8,), not [rows, classes or steps]"
    ]


def test_a_sequence_matches_only_when_every_step_does():
    served = Served("exact_match", "exact_match", "ids", "y_xf", ("ids", "prediction"))
    labels = np.array([[4, 2, 10], [7, 10, 10], [1, 2, 3]])
    ids = np.array([[4, 2, 10], [7, 10, 10], [1, 2, 4]])  # the last differs in one step
    answers = {
        "rows": np.asarray(3),
        "label:y_xf": labels,
        "ids": ids,
        "prediction": np.array([b"42", b"7", b"124"]),
    }
    failures, values = serving_check.judge([served], answers, {"exact_match": 2 / 3})
    assert failures == [] and values == {"exact_match": pytest.approx(2 / 3)}
    flat = {**answers, "ids": ids.reshape(-1)[:3]}
    assert serving_check.judge([served], flat, {})[0] == [
        "'ids' has shape (3,), not [rows, classes or steps]"
    ]


def test_a_regression_metric_agrees_within_a_relative_bound():
    served = Served("rmse", "rmse", "prediction", "y_xf", ("prediction", "score"))
    answers = _answers(prediction=Y + 0.5, score=Y + 0.5)
    assert serving_check.judge([served], answers, {"rmse": 0.50001})[0] == []
    assert serving_check.judge([served], answers, {"rmse": 0.51})[0] != []


def test_a_model_that_cannot_load_is_named_with_the_reason(tmp_path):
    model = _save(tmp_path / "model")
    (tmp_path / "model" / "saved_model.pb").write_bytes(b"not a SavedModel")
    answers, failure = serving_check.probe(model, str(tmp_path / "none*"), [], 120)
    assert answers is None
    assert failure.startswith("it cannot load and answer in a fresh process: ")
    assert "\n" not in failure


def _artifact(kind, uri):
    artifact = kind()
    artifact.uri = str(uri)
    artifact.id = 7
    return artifact


def _gate_blessing(tmp_path, passed: bool):
    blessing = _artifact(ModelBlessing, tmp_path / "gate")
    check = gate.Check("accuracy", ACCURACY, True, threshold=0.5, naive=0.5)
    decision = gate.decide([check]) if passed else gate.Decision((check,), False, "too weak")
    gate.record(blessing, decision, _artifact(Model, tmp_path / "candidate"))
    return blessing


def _run(tmp_path, broken: str, passed: bool = True):
    model = _artifact(Model, tmp_path / "model")
    if broken != "absent":
        _save(path_utils.serving_model_dir(model.uri), broken)
    blessing = _artifact(ModelBlessing, tmp_path / "blessing")
    body = serving_check.ServingCheck.EXECUTOR_SPEC.executor_class._FUNCTION
    body(
        model=model,
        examples=_artifact(Examples, _examples(tmp_path / "examples")),
        gate_blessing=_gate_blessing(tmp_path, passed),
        blessing=blessing,
        outputs=json.dumps([dataclasses.asdict(SERVED)]),
        test_split="test",
        timeout_s=120,
    )
    record = json.loads((tmp_path / "blessing" / serving_check.FILE).read_text())
    return blessing, gate.read(blessing.uri), record


def test_the_component_passes_the_gate_decision_of_a_model_that_serves(tmp_path):
    blessing, decision, record = _run(tmp_path, broken="")
    assert decision.passed and decision.reason.endswith(
        "serving check: 8 test rows answered in a fresh process, accuracy 0.75 as evaluated"
    )
    assert blessing.get_int_custom_property("blessed") == 1
    assert blessing.get_int_custom_property(gate.GATED) == 1
    assert blessing.get_int_custom_property("current_model_id") == 7  # the gate's candidate
    assert record["rows"] == 8 and record["served"] == record["evaluated"] == {"accuracy": ACCURACY}
    assert (tmp_path / "blessing" / "BLESSED").is_file()


def test_an_export_that_only_answers_where_it_was_saved_is_not_pushed(tmp_path):
    blessing, decision, record = _run(tmp_path, broken="py_function")
    assert not decision.passed and blessing.get_int_custom_property("blessed") == 0
    assert decision.reason.startswith("serving check: it cannot load and answer in a fresh process")
    assert "pyfunc" in decision.reason and "EagerPyFunc" in decision.reason
    assert record["checked"] and record["failures"] == [decision.reason[len("serving check: ") :]]
    assert (tmp_path / "blessing" / "NOT_BLESSED").is_file()


@pytest.mark.parametrize(
    ("broken", "why"),
    [
        ("one_row", "'probabilities' has 1 answers for 8 rows"),
        ("flipped", "the Evaluator measured 0.75"),
    ],
)
def test_wrongly_shaped_or_disagreeing_answers_are_not_pushed(tmp_path, broken, why):
    _, decision, _ = _run(tmp_path, broken=broken)
    assert not decision.passed and why in decision.reason


def test_a_refused_candidate_passes_on_unloaded(tmp_path):
    blessing, decision, record = _run(tmp_path, broken="absent", passed=False)
    assert not decision.passed and decision.reason == "too weak"
    assert record["checked"] is False and blessing.get_int_custom_property("blessed") == 0


def test_no_gate_decision_fails_closed(tmp_path):
    gate_blessing = _artifact(ModelBlessing, tmp_path / "empty")
    body = serving_check.ServingCheck.EXECUTOR_SPEC.executor_class._FUNCTION
    with pytest.raises(FileNotFoundError, match="no gate decision"):
        body(
            model=_artifact(Model, tmp_path / "model"),
            examples=_artifact(Examples, tmp_path / "examples"),
            gate_blessing=gate_blessing,
            blessing=_artifact(ModelBlessing, tmp_path / "blessing"),
            outputs="[]",
        )
