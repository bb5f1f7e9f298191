"""The TFMA configuration of supervised tasks: what the Evaluator computes and gates on."""

from __future__ import annotations

import json

from trainers.spec import METRICS, TaskSpec

CHANGE_TOLERANCE = 1e-10  # a candidate may not be worse than the baseline by more than this
SIGNATURE = "serving_default"


def eval_config(spec: TaskSpec):
    """TFMA config: raw examples through `serving_default`, label from `transform_features`.

    Without `signature_name='serving_default'` TFMA would call the Keras model on raw
    features and score nonsense; with it, the Evaluator sees exactly what serving sees.
    """
    import tensorflow_model_analysis as tfma

    from trainers.common.features import xf

    # The serving signature output TFMA scores.
    from trainers.common.signatures import PREDICTION_KEYS

    if spec.outputs:
        return _multi_output_eval_config(spec)
    config = tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SIGNATURE,
                label_key=xf(spec.label),
                prediction_key=PREDICTION_KEYS[spec.problem],
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    _metric_config(spec.metric, spec.threshold),
                ]
            )
        ],
    )
    if spec.problem == "sequence":
        # Its compiled metrics score next-id probabilities under teacher forcing; the
        # signature answers decoded ids, which they cannot read.
        config.options.include_default_metrics.value = False
    return config


def _metric_config(metric: str, threshold: float | None):
    """A gating metric: value threshold plus 'not worse than the baseline' (None: report only)."""
    import tensorflow_model_analysis as tfma

    config = {"class_name": METRICS[metric].tfma_class, "config": json.dumps({"name": metric})}
    if METRICS[metric].tfma_module:
        config["module"] = METRICS[metric].tfma_module
    if threshold is None:
        return tfma.MetricConfig(**config)
    higher = METRICS[metric].higher_is_better
    bound = {"lower_bound" if higher else "upper_bound": {"value": threshold}}
    direction = (
        tfma.MetricDirection.HIGHER_IS_BETTER if higher else (tfma.MetricDirection.LOWER_IS_BETTER)
    )
    gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(**bound),
        change_threshold=tfma.GenericChangeThreshold(
            direction=direction,
            absolute={"value": -CHANGE_TOLERANCE if higher else CHANGE_TOLERANCE},
        ),
    )
    return tfma.MetricConfig(**config, threshold=gate)


def _multi_output_eval_config(spec: TaskSpec):
    """Per output: its label, its metric and (unless only reported) its gate.

    TFMA blesses only when every gated output passes; metrics are keyed by output name.
    """
    import tensorflow_model_analysis as tfma

    from trainers.common.features import xf

    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=SIGNATURE,
                # Predictions: the signature output named after each output (signatures.py).
                label_keys={o.name: xf(o.label) for o in spec.outputs},
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                output_names=[o.name],
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    _metric_config(o.metric, o.threshold),
                ],
            )
            for o in spec.outputs
        ],
    )
