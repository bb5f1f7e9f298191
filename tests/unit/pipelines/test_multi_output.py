"""Multi-output task specs: declaration, Evaluator config per output, Trainer settings."""

import dataclasses
import json

import pytest

from pipelines import evaluation, kinds, tasks
from pipelines.home import Home
from pipelines.options import RunOptions
from trainers.spec import Output, TaskSpec, multi_output


def _spec(**changes) -> TaskSpec:
    outputs = (
        Output("kind", "species", "classification", "accuracy", threshold=0.9),
        Output("size", "mass", "regression", "rmse", threshold=250.0),
        Output("aux", "mass", "regression", "rmse"),
    )
    fields = dict(
        name="two_heads",
        kind="supervised",
        trainer="trainers.multi_io",
        data="trainers.multi_io.data",
        dataset="test",
    )
    return multi_output(changes.pop("outputs", outputs), **(fields | changes))


def test_multi_output_spec_takes_its_main_fields_from_the_first_output():
    spec = _spec()
    assert (spec.label, spec.problem, spec.metric, spec.threshold) == (
        "species",
        "classification",
        "accuracy",
        0.9,
    )
    assert [o.key for o in spec.scored] == ["kind/accuracy", "size/rmse", "aux/rmse"]
    assert [o.higher_is_better for o in spec.scored] == [True, False, False]


def test_single_output_spec_scores_its_one_metric():
    penguin = tasks.builtin()["penguin"]
    assert penguin.outputs == ()
    (only,) = penguin.scored
    assert (only.key, only.label, only.threshold) == ("accuracy", "species", 0.97)


def test_spec_survives_a_json_round_trip():
    spec = _spec()
    again = TaskSpec(**json.loads(json.dumps(dataclasses.asdict(spec))))
    assert again == spec
    assert isinstance(again.outputs[1], Output)


def test_inconsistent_or_unsupported_specs_are_rejected():
    spec = _spec()
    with pytest.raises(ValueError, match="must be outputs\\[0\\]'s"):
        dataclasses.replace(spec, threshold=0.5)
    with pytest.raises(ValueError, match="needs a threshold"):
        _spec(outputs=(Output("a", "y", "regression", "rmse"),))
    two_classes = (
        Output("a", "y", "classification", "accuracy", threshold=0.5),
        Output("b", "z", "classification", "accuracy", threshold=0.5),
    )
    with pytest.raises(ValueError, match="at most one classification"):
        _spec(outputs=two_classes)


def test_with_threshold_moves_the_main_gate_only():
    spec = _spec().with_threshold(0.95)
    assert spec.threshold == 0.95
    assert [o.threshold for o in spec.outputs] == [0.95, 250.0, None]


def test_eval_config_has_one_gate_per_gated_output():
    config = evaluation.eval_config(_spec())
    (model,) = config.model_specs
    assert model.signature_name == "serving_default"
    assert list(model.preprocessing_function_names) == ["transform_features"]
    assert dict(model.label_keys) == {"kind": "species_xf", "size": "mass_xf", "aux": "mass_xf"}
    by_output = {tuple(m.output_names): m.metrics for m in config.metrics_specs}
    assert set(by_output) == {("kind",), ("size",), ("aux",)}

    accuracy = by_output[("kind",)][-1]
    assert accuracy.class_name == "SparseCategoricalAccuracy"
    assert accuracy.threshold.value_threshold.lower_bound.value == pytest.approx(0.9)
    assert accuracy.threshold.change_threshold.absolute.value < 0

    rmse = by_output[("size",)][-1]
    assert rmse.class_name == "RootMeanSquaredError"
    assert rmse.threshold.value_threshold.upper_bound.value == pytest.approx(250.0)
    assert not rmse.threshold.value_threshold.HasField("lower_bound")
    assert rmse.threshold.change_threshold.absolute.value > 0

    aux = by_output[("aux",)][-1]
    assert aux.class_name == "RootMeanSquaredError"
    assert not aux.HasField("threshold")  # reported, never blocks a push


def test_single_output_eval_config_keeps_its_shape():
    config = evaluation.eval_config(tasks.builtin()["penguin"])
    assert config.model_specs[0].prediction_key == "probabilities"
    assert not config.model_specs[0].label_keys
    assert [list(m.output_names) for m in config.metrics_specs] == [[]]


@pytest.mark.parametrize("name", ["wide_deep", "multi_io"])
def test_builtin_multi_output_tasks_are_registered(name, tmp_path):
    spec = tasks.get(name, Home(tmp_path))
    assert len(spec.outputs) == 2 and spec.kind == "supervised"
    gated = [o for o in spec.outputs if o.threshold is not None]
    assert gated[0] == spec.outputs[0]


def test_trainer_learns_outputs_but_not_their_gates(tmp_path):
    spec = _spec()
    home = Home(tmp_path / "home")

    def trainer_config(s):
        pipeline = kinds.create_pipeline(s, home, RunOptions(input_dir=tmp_path))
        trainer = next(c for c in pipeline.components if c.id == "Trainer")
        return json.loads(trainer.exec_properties["custom_config"])

    config = trainer_config(spec)
    assert config["outputs"] == [
        {"name": "kind", "label": "species", "problem": "classification"},
        {"name": "size", "label": "mass", "problem": "regression"},
        {"name": "aux", "label": "mass", "problem": "regression"},
    ]
    # A new gate re-runs the Evaluator only: the Trainer's inputs are unchanged.
    assert trainer_config(spec.with_threshold(0.99)) == config
