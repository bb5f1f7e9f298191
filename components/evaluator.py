"""TFX's Evaluator, reading a baseline Model that a lookup marked absent as no baseline.

On open-source Kubeflow the baseline comes from `components.pushed_model.LatestPushedModel`, whose
output always exists (an orchestrator creates every declared output); before the first push
it is marked absent. TFX's Evaluator would try to load it, so this executor drops it first.
Locally a Resolver with nothing to resolve passes no artifact, and nothing changes.
"""

from tfx.components import Evaluator as TfxEvaluator
from tfx.components.evaluator import executor as tfx_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from components import artifacts


class Executor(tfx_executor.Executor):
    """TFX's Evaluator executor without an absent baseline."""

    def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802 (TFX's name)
        """Evaluates as TFX does, with the baseline only if one was found."""
        key = standard_component_specs.BASELINE_MODEL_KEY
        found = [a for a in input_dict.get(key, []) if artifacts.present(a) is not None]
        return super().Do({**input_dict, key: found}, output_dict, exec_properties)


class Evaluator(TfxEvaluator):
    """Evaluator whose baseline may be an absent marker (see the module docstring)."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
