from tfx.types import standard_artifacts

from components.baseline_resolver import BaselineModelStrategy, LatestGatedModelStrategy
from components.gate import GATED


def _model(artifact_id):
    model = standard_artifacts.Model()
    model.id = artifact_id
    return model


def _blessing(artifact_id, model_id, blessed, gated=True):
    blessing = standard_artifacts.ModelBlessing()
    blessing.id = artifact_id
    blessing.set_int_custom_property("blessed", 1 if blessed else 0)
    blessing.set_int_custom_property("current_model_id", model_id)
    if gated:  # written by a kfx gate, not by TFX's Evaluator alone
        blessing.set_int_custom_property(GATED, 1)
    return blessing


def _resolve(models, blessings):
    return BaselineModelStrategy().resolve_artifacts(
        None, {"model": models, "model_blessing": blessings}
    )


def _ids(result):
    return [a.id for a in result["model"]], [a.id for a in result["model_blessing"]]


def test_no_blessed_model():
    models = [_model(1), _model(2)]
    assert _ids(_resolve(models, [_blessing(10, 1, False)])) == ([], [])


def test_empty_inputs():
    assert _resolve([], []) == {"model": [], "model_blessing": []}


def test_newest_blessed_older_than_candidate():
    models = [_model(3), _model(1), _model(5), _model(2)]
    blessings = [
        _blessing(11, 1, True),
        _blessing(12, 2, True),
        _blessing(13, 3, False),
        _blessing(15, 5, True),
    ]
    assert _ids(_resolve(models, blessings)) == ([2], [12])


def test_candidate_alone_is_not_its_own_baseline():
    assert _ids(_resolve([_model(4)], [_blessing(20, 4, True)])) == ([], [])


def test_unblessed_models_ignored():
    models = [_model(1), _model(2), _model(3)]
    blessings = [_blessing(11, 1, True), _blessing(12, 2, False)]
    assert _ids(_resolve(models, blessings)) == ([1], [11])


def test_models_without_blessings():
    assert _ids(_resolve([_model(1), _model(2)], [])) == ([], [])


def test_a_blessing_no_gate_wrote_is_ignored():
    # TFX's Evaluator blesses from its own thresholds only; the naive check is the gate's.
    models = [_model(1), _model(2), _model(3)]
    blessings = [_blessing(11, 1, True), _blessing(12, 2, True, gated=False)]
    assert _ids(_resolve(models, blessings)) == ([1], [11])


def test_warm_start_takes_the_newest_gate_blessed_model():
    models = [_model(1), _model(2), _model(3)]
    blessings = [_blessing(11, 1, True), _blessing(12, 2, True), _blessing(13, 3, True, False)]
    result = LatestGatedModelStrategy().resolve_artifacts(
        None, {"model": models, "model_blessing": blessings}
    )
    assert _ids(result) == ([2], [12])


def test_the_newest_gate_decision_of_a_model_is_the_one_that_counts():
    # The ModelGate blessed model 2, then the ServingCheck refused it: it was never pushed.
    models = [_model(1), _model(2), _model(3)]
    blessings = [_blessing(11, 1, True), _blessing(12, 2, True), _blessing(14, 2, False)]
    assert _ids(_resolve(models, blessings)) == ([1], [11])
    shuffled = [blessings[2], blessings[0], blessings[1]]  # MLMD order is not creation order
    assert _ids(_resolve(models, shuffled)) == ([1], [11])
