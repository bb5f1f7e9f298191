"""The supervised pipeline, one factory for every supervised task.

ExampleGen → StatisticsGen → SchemaGen | ImportSchemaGen → ExampleValidator → AnomalyGate →
Transform → [Tuner] → Trainer → baseline Resolver → Evaluator → Pusher. A task with a
`source_task` gets that task's newest pushed model as the Trainer's `base_model`.
"""

from __future__ import annotations

import json

from pipelines import wiring
from pipelines.home import Home
from pipelines.options import RunOptions
from pipelines.tasks import METRICS, SPAN, TaskSpec
from trainers.common.features import xf

CHANGE_TOLERANCE = 1e-10  # a candidate may not be worse than the baseline by more than this
TFRECORD_SUFFIX = ".tfrecord"  # data.tfrecord or data.tfrecord.gz: already tf.Examples


def eval_config(spec: TaskSpec):
    """TFMA config: raw examples through `serving_default`, label from `transform_features`.

    Without `signature_name='serving_default'` TFMA would call the Keras model on raw
    features and score nonsense; with it, the Evaluator sees exactly what serving sees.
    """
    import tensorflow_model_analysis as tfma

    # The serving signature output TFMA scores.
    from trainers.common.signatures import PREDICTION_KEYS

    if spec.outputs:
        return _multi_output_eval_config(spec)
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
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


def _metric_config(metric: str, threshold: float | None):
    """A gating metric: value threshold plus 'not worse than the baseline' (None: report only)."""
    import tensorflow_model_analysis as tfma

    config = {"class_name": METRICS[metric].tfma_class, "config": json.dumps({"name": metric})}
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

    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
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


def is_tfrecord_input(input_dir) -> bool:
    """True when a local input folder holds tf.Example TFRecords (ImportExampleGen), not CSV.

    A remote folder (gs://...) is not listed at compile time and is read as CSV.
    """
    from pathlib import Path

    if "://" in str(input_dir):
        return False
    return any(Path(input_dir).glob(f"{SPAN}*/*{TFRECORD_SUFFIX}*"))


def base_model_source(spec: TaskSpec, opts: RunOptions):
    """(node, Model channel) of the source task's newest pushed model: the Trainer's `base_model`.

    TFX's Trainer has one model input, so a task with a source cannot also warm-start.

    Raises:
        ValueError: `opts.warm_start` was asked for (or, on Kubeflow, no `--source-model`).
    """
    if opts.warm_start:
        raise ValueError(
            f"--warm-start: {spec.name!r} starts from {spec.source_task!r}'s pushed model "
            "(the Trainer's base_model); run it without --warm-start"
        )
    return wiring.source_model(spec, opts)


def create_pipeline(spec: TaskSpec, home: Home, opts: RunOptions):
    """Builds the TFX pipeline of a supervised task (same object for local and Kubeflow)."""
    # Not `from tfx import v1`: that also imports the Vertex AI extensions (~1.3 s).
    from tfx import components as tfc
    from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
    from tfx.proto import example_gen_pb2, trainer_pb2

    from components.anomaly_gate import AnomalyGate
    from components.model_optimizer import split_overrides

    # `--set optimize.KEY=VALUE` goes to the ModelOptimizer, the rest to the trainer.
    trainer_hparams, optimizer_params = split_overrides(opts.hparams)
    config = {
        "label": spec.label,
        "problem": spec.problem,
        "hparams": trainer_hparams,
        "tuner": opts.tuner,
        "tune_trials": opts.tune_trials,
    }
    if spec.outputs:  # thresholds stay out: changing a gate must not retrain
        config["outputs"] = [
            {"name": o.name, "label": o.label, "problem": o.problem} for o in spec.outputs
        ]
    steps = opts.train_steps or spec.train_steps

    tfrecords = is_tfrecord_input(opts.input_dir)
    # The newest span-N folder is this run's data; train/eval is a 2:1 hash split.
    data = example_gen_pb2.Input(
        splits=[
            example_gen_pb2.Input.Split(
                name="data", pattern=f"{SPAN}{{SPAN}}/*{TFRECORD_SUFFIX if tfrecords else '.csv'}*"
            )
        ]
    )
    split = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=2),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1),
            ]
        )
    )
    gen_class = tfc.ImportExampleGen if tfrecords else tfc.CsvExampleGen
    example_gen = gen_class(input_base=str(opts.input_dir), input_config=data, output_config=split)
    statistics = tfc.StatisticsGen(examples=example_gen.outputs["examples"])
    if spec.schema_path is not None:
        schema_gen = ImportSchemaGen(schema_file=str(spec.schema_path))
        schema_hint = str(spec.schema_path)
    else:
        schema_gen = tfc.SchemaGen(
            statistics=statistics.outputs["statistics"], infer_feature_shape=False
        )
        schema_hint = "the inferred schema"
    validator = tfc.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    gate = AnomalyGate(
        anomalies=validator.outputs["anomalies"],
        schema=schema_gen.outputs["schema"],
        schema_hint=schema_hint,
    )
    schema = gate.outputs["validated_schema"]
    transform = tfc.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema,
        preprocessing_fn=f"{spec.trainer}.preprocessing.preprocessing_fn",
        # Only what preprocessing needs: tuning options must not invalidate Transform's cache.
        custom_config={"label": spec.label, "problem": spec.problem},
        # StatisticsGen already profiles the raw data; pre/post-transform statistics cost
        # a third of Transform's time on small data.
        disable_statistics=True,
        force_tf_compat_v1=True,
    )
    components = [example_gen, statistics, schema_gen, validator, gate, transform]
    trainer_inputs = {}
    if opts.tune:
        tuner = tfc.Tuner(
            tuner_fn=f"{spec.trainer}.model.tuner_fn",
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            train_args=trainer_pb2.TrainArgs(num_steps=steps),
            eval_args=trainer_pb2.EvalArgs(),
            custom_config=config,
        )
        components.append(tuner)
        trainer_inputs["hyperparameters"] = tuner.outputs["best_hyperparameters"]
    if spec.source_task:  # a backbone or a teacher: the Trainer's base_model
        source, source_model = base_model_source(spec, opts)
        components.append(source)
        trainer_inputs["base_model"] = source_model
    else:
        trainer_inputs.update(wiring.warm_start_inputs(opts, components))
    trainer = tfc.Trainer(
        run_fn=f"{spec.trainer}.model.run_fn",
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema,
        train_args=trainer_pb2.TrainArgs(num_steps=steps),
        eval_args=trainer_pb2.EvalArgs(),
        custom_config=config,
        **trainer_inputs,
    )
    baseline = wiring.baseline_resolver(opts, trainer)
    evaluator = tfc.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=baseline.outputs["model"],
        eval_config=eval_config(spec),
    )
    components += [trainer, baseline, evaluator]
    pushed = trainer.outputs["model"]
    if opts.optimize:
        from components.model_optimizer import ModelOptimizer

        optimizer = ModelOptimizer(
            model=trainer.outputs["model"],
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            blessing=evaluator.outputs["blessing"],
            label_key=xf(spec.label),
            problem=spec.problem,
            import_modules=f"{spec.trainer}.model",  # registers the task's custom layers
            params=json.dumps(optimizer_params, sort_keys=True),
        )
        components.append(optimizer)
        pushed = optimizer.outputs["optimized_model"]  # the SavedModel plus .tflite files
    components.append(wiring.pusher(spec, home, pushed, evaluator.outputs["blessing"]))
    return wiring.pipeline(spec, home, opts, components)
