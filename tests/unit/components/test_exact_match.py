"""SequenceExactMatch: TFMA scores whole sequences, not their positions one by one."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_specs, metric_types

from components import exact_match
from pipelines import evaluation, tasks


def _combiner():
    config = tfma.MetricConfig(
        class_name="SequenceExactMatch", module="components.exact_match", config='{"name": "x"}'
    )
    metric = metric_specs.metric_instance(config)
    (computation,) = metric.computations()
    return computation.combiner, computation.keys[0]


def _inputs(label, prediction):
    return metric_types.StandardMetricInputs(
        labels=np.asarray(label), predictions=np.asarray(prediction), example_weights=None
    )


def test_an_example_counts_only_when_its_whole_sequence_matches():
    combiner, key = _combiner()
    counts = combiner.create_accumulator()
    for label, prediction in [
        ([4, 2, 10], [4, 2, 10]),
        ([4, 2, 10], [4, 3, 10]),  # one step off: TFMA's own ExactMatch would count 2 of 3
        ([7, 10, 10], [7, 10, 10]),
        ([1, 10, 10], [10, 10, 10]),
    ]:
        counts = combiner.add_input(counts, _inputs(label, prediction))
    merged = combiner.merge_accumulators([counts, combiner.create_accumulator()])
    assert combiner.extract_output(merged) == {key: 0.5}
    assert key.name == "x"


@pytest.mark.parametrize(
    ("label", "prediction", "same"),
    [([1, 2], [1, 2], True), ([1, 2], [1, 3], False), ([1, 2], [1, 2, 3], False)],
)
def test_matches_compares_every_position_and_the_length(label, prediction, same):
    assert exact_match.matches(label, prediction) is same


def test_the_evaluator_loads_it_by_module_for_a_sequence_task():
    config = evaluation.eval_config(tasks.builtin()["seq2seq"])
    (metric,) = [m for m in config.metrics_specs[0].metrics if m.class_name != "ExampleCount"]
    assert (metric.class_name, metric.module) == ("SequenceExactMatch", "components.exact_match")
    assert config.model_specs[0].prediction_key == "ids"
    assert config.options.include_default_metrics.value is False
