"""A TFMA metric for sequence outputs: the share of examples whose every position is right.

TFMA's own `ExactMatch` flattens a [T] label and prediction into T separate values, so on
token ids it would score tokens, not sequences. This one compares each example's whole
label with its whole prediction (e.g. decoded token ids against target ids, both padded the
same way). The Evaluator loads it by module (`MetricConfig(module=...)`).
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam
import numpy as np
from tensorflow_model_analysis.metrics import metric_types, metric_util

NAME = "exact_match"


def matches(label, prediction) -> bool:
    """Whether one example's label and prediction agree at every position."""
    label, prediction = np.asarray(label).reshape(-1), np.asarray(prediction).reshape(-1)
    return label.shape == prediction.shape and bool(np.all(label == prediction))


class SequenceExactMatch(metric_types.Metric):
    """Exact match of whole sequences (a TFMA metric)."""

    def __init__(self, name: str = NAME):
        """`name`: the metric's key in the evaluation."""
        super().__init__(metric_util.merge_per_key_computations(_computations), name=name)


def _computations(
    name: str = NAME,
    eval_config=None,
    model_name: str = "",
    output_name: str = "",
    sub_key=None,
    aggregation_type=None,
    class_weights=None,
    example_weighted: bool = False,
) -> metric_types.MetricComputations:
    """One computation: `_Combiner` over the standard label and prediction."""
    del sub_key, aggregation_type, class_weights  # sequences have no classes to pick
    key = metric_types.MetricKey(
        name=name, model_name=model_name, output_name=output_name, example_weighted=example_weighted
    )
    combiner = _Combiner(key, eval_config, example_weighted)
    return [metric_types.MetricComputation(keys=[key], preprocessors=None, combiner=combiner)]


@dataclasses.dataclass
class _Counts:
    matched: float = 0.0
    total: float = 0.0


class _Combiner(beam.CombineFn):
    """Sums matched and total (weighted) examples."""

    def __init__(self, key: metric_types.MetricKey, eval_config, example_weighted: bool):
        self._key, self._eval_config, self._weighted = key, eval_config, example_weighted

    def create_accumulator(self) -> _Counts:
        return _Counts()

    def add_input(self, counts: _Counts, element) -> _Counts:
        for label, prediction, weight in metric_util.to_label_prediction_example_weight(
            element,
            eval_config=self._eval_config,
            model_name=self._key.model_name,
            output_name=self._key.output_name,
            example_weighted=self._weighted,
            flatten=False,  # one example is one sequence
            squeeze=False,
        ):
            weight = float(metric_util.safe_to_scalar(weight))
            counts.matched += weight * matches(label, prediction)
            counts.total += weight
        return counts

    def merge_accumulators(self, accumulators) -> _Counts:
        merged = _Counts()
        for counts in accumulators:
            merged.matched += counts.matched
            merged.total += counts.total
        return merged

    def extract_output(self, counts: _Counts) -> dict:
        value = counts.matched / counts.total if counts.total else float("nan")
        return {self._key: value}


metric_types.register_metric(SequenceExactMatch)
