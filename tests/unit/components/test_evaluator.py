"""The Evaluator drops a baseline a lookup marked absent, and keeps a real one.

Only the filtering is under test here (TFX's own Do is replaced by a recorder); the e2e
kfp.local runs evaluate for real with an absent and then a present baseline.
"""

from tfx.components.evaluator import executor as tfx_executor
from tfx.types import standard_artifacts

from components import artifacts, evaluator


def _model(uri: str):
    model = standard_artifacts.Model()
    model.uri = uri
    return model


def test_an_absent_baseline_is_dropped_and_a_real_one_kept(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(tfx_executor.Executor, "Do", lambda self, i, o, e: seen.append(i))
    absent, real = _model(str(tmp_path / "absent")), _model(str(tmp_path / "real"))
    artifacts.mark_absent(absent.uri, "nothing pushed yet")
    candidate = _model(str(tmp_path / "candidate"))
    for baseline in (absent, real):
        evaluator.Executor().Do({"model": [candidate], "baseline_model": [baseline]}, {}, {})
    assert seen[0]["baseline_model"] == [] and seen[0]["model"] == [candidate]
    assert seen[1]["baseline_model"] == [real]


def test_the_component_uses_the_executor():
    assert evaluator.Evaluator.EXECUTOR_SPEC.executor_class is evaluator.Executor
