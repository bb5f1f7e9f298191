"""The supervised kind: one factory for every task that learns from labelled examples.

ExampleGen → StatisticsGen → SchemaGen | ImportSchemaGen → ExampleValidator, DriftCheck →
AnomalyGate → Transform → [Tuner] → Trainer → baseline (Resolver or lookup, per target) →
Evaluator → ModelGate → [ModelOptimizer] → ServingCheck → Pusher → Report (the run's HTML
page). A task with a `source_task` gets that task's newest pushed model as the Trainer's
`base_model`.

Three splits: early stopping, checkpoints, LR plateau and the Tuner see `eval`; the
Evaluator, the gate (threshold, naive predictor, baseline) and the ModelOptimizer see only
`test`, which no training decision has seen.
"""

from __future__ import annotations

import dataclasses
import json

from pipelines import evaluation, ids, predict, targets, wiring
from pipelines.errors import TaskError
from pipelines.kinds.base import Kind
from pipelines.options import RunOptions, split_overrides
from pipelines.spans import SPAN
from trainers import manifest
from trainers.contract import Head, TrainerConfig
from trainers.spec import HASH_BUCKETS, SPLITS, TFRECORD, TaskSpec

TRAIN, EVAL, TEST = SPLITS
FILE_PATTERNS = {TFRECORD: "*.tfrecord*", "csv": "*.csv*"}  # data.tfrecord.gz: tf.Examples


class Supervised(Kind):
    """Tasks trained by TFX's Trainer on validated, transformed examples."""

    name = "supervised"
    training_nodes = (ids.TRAINER, ids.TUNER)
    evaluation_node = ids.SERVING_CHECK
    earlier_evaluation_nodes = (ids.MODEL_GATE,)  # runs recorded before the ServingCheck
    supports_tuning = True
    supports_optimize = True

    def check(self, spec: TaskSpec, opts: RunOptions) -> None:
        """Also refuses what a supervised task cannot honour.

        `--warm-start` for a task whose Trainer input holds its source model; `--optimize`
        for a sequence model (its TFLite scorer reads one answer per row).
        """
        super().check(spec, opts)
        if opts.optimize and spec.problem == "sequence":
            raise TaskError(
                f"--optimize: {spec.name} decodes step by step in its signature, which the "
                "ModelOptimizer's TFLite scoring cannot replay; run it without --optimize"
            )
        if spec.source_task and opts.warm_start:
            raise TaskError(  # the Trainer's one base_model input holds the source model
                f"--warm-start: {spec.name} starts from the pushed model of {spec.source_task!r}; "
                "run it without --warm-start"
            )

    def trainer_config(self, spec: TaskSpec, opts: RunOptions) -> TrainerConfig:
        """Label, outputs, hyper-parameters and tuner settings (`optimize.*` values left out)."""
        trainer_hparams, _ = split_overrides(opts.hparams)
        return TrainerConfig(
            label=spec.label,
            problem=spec.problem,
            # Thresholds stay out: changing a gate must not retrain.
            outputs=tuple(Head(o.name, o.label, o.problem) for o in spec.outputs),
            hparams={**spec.hparams, **trainer_hparams},
            tuner=opts.tuner,
            tune_trials=opts.tune_trials,
        )

    def predictor(self, model_dir, model_manifest):
        """Rows as raw tf.Examples through `serving_default`: prediction and score columns."""
        if model_manifest.kind != manifest.EXAMPLES:
            raise TaskError(f"{model_dir}: a {model_manifest.kind} model, not a supervised one")
        return predict.examples(model_dir, model_manifest)

    def create_pipeline(self, spec: TaskSpec, home, opts: RunOptions):
        """Builds the TFX pipeline of a supervised task (same object for local and Kubeflow)."""
        # Not `from tfx import v1`: that also imports the Vertex AI extensions (~1.3 s).
        from tfx import components as tfc
        from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
        from tfx.proto import trainer_pb2, transform_pb2

        from components.anomaly_gate import AnomalyGate
        from components.drift_check import DriftCheck
        from components.evaluator import Evaluator

        config = self.trainer_config(spec, opts).to_custom_config()
        steps = opts.train_steps or spec.train_steps

        data, split = example_gen_config(spec)
        # Reads the newest span and splits it train/eval/test.
        example_gen = targets.of(opts).example_gen(spec, str(opts.input_dir), data, split)
        # Profiles every split.
        statistics = tfc.StatisticsGen(examples=example_gen.outputs["examples"]).with_id(
            ids.STATISTICS_GEN
        )
        if spec.schema_path is not None:
            # The curated schema new data must match.
            schema_hint = targets.of(opts).schema_file(spec, home)
            schema_gen = ImportSchemaGen(schema_file=schema_hint).with_id(ids.IMPORT_SCHEMA_GEN)
        else:
            # A schema inferred from this data (frozen after a CSV task's first run).
            schema_gen = tfc.SchemaGen(
                statistics=statistics.outputs["statistics"], infer_feature_shape=False
            ).with_id(ids.SCHEMA_GEN)
            schema_hint = "the inferred schema"
        # Records where the data breaks the schema.
        validator = tfc.ExampleValidator(
            statistics=statistics.outputs["statistics"], schema=schema_gen.outputs["schema"]
        ).with_id(ids.EXAMPLE_VALIDATOR)
        # Compares the span with the last good one where the schema sets drift thresholds.
        drift = DriftCheck(
            statistics=statistics.outputs["statistics"],
            schema=schema_gen.outputs["schema"],
            examples=example_gen.outputs["examples"],
            data_root=str(opts.input_dir),
            accept_drift=int(opts.accept_drift),
        ).with_id(ids.DRIFT_CHECK)
        # Stops the run on any anomaly or drift; what follows consumes its schema.
        quarantine = {}
        if targets.of(opts).gate_quarantines:  # a rejected span moves aside in the pipeline
            quarantine = {
                "data_root": str(opts.input_dir),
                "examples": example_gen.outputs["examples"],
            }
        gate = AnomalyGate(
            anomalies=validator.outputs["anomalies"],
            schema=schema_gen.outputs["schema"],
            schema_hint=schema_hint,
            drift=drift.outputs["drift"],
            **quarantine,
        ).with_id(ids.ANOMALY_GATE)
        schema = gate.outputs["validated_schema"]
        # Features for the model, computed once with full-pass statistics.
        transform = tfc.Transform(
            examples=example_gen.outputs["examples"],
            schema=schema,
            preprocessing_fn=f"{spec.preprocessing_module}.preprocessing_fn",
            # Only what preprocessing needs: tuning options must not invalidate Transform's cache.
            custom_config=TrainerConfig(label=spec.label, problem=spec.problem).to_custom_config(),
            # Statistics and vocabularies come from the train split only; all three are
            # transformed (the ModelOptimizer scores the test split's transformed examples).
            splits_config=transform_pb2.SplitsConfig(analyze=[TRAIN], transform=list(SPLITS)),
            # StatisticsGen already profiles the raw data; pre/post-transform statistics cost
            # a third of Transform's time on small data.
            disable_statistics=True,
            force_tf_compat_v1=True,
        ).with_id(ids.TRANSFORM)
        components = [example_gen, statistics, schema_gen, validator, drift, gate, transform]
        trainer_inputs = {}
        if opts.tune:
            # Searches the task's hyper-parameter space; the Trainer uses the best values.
            tuner = tfc.Tuner(
                tuner_fn=f"{spec.model_module}.tuner_fn",
                examples=transform.outputs["transformed_examples"],
                transform_graph=transform.outputs["transform_graph"],
                train_args=trainer_pb2.TrainArgs(splits=[TRAIN], num_steps=steps),
                eval_args=trainer_pb2.EvalArgs(splits=[EVAL]),
                custom_config=config,
            ).with_id(ids.TUNER)
            components.append(tuner)
            trainer_inputs["hyperparameters"] = tuner.outputs["best_hyperparameters"]
        if spec.source_task:  # a backbone or a teacher: the Trainer's base_model
            source, source_model = wiring.source_model(spec, home, opts)
            components.append(source)
            trainer_inputs["base_model"] = source_model
        else:
            trainer_inputs.update(wiring.warm_start_inputs(spec, home, opts, components))
        # Trains the task's model and exports it with the serving signatures.
        trainer = tfc.Trainer(
            run_fn=f"{spec.model_module}.run_fn",
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            schema=schema,
            # Early stopping, checkpoints and LR plateau see eval; test stays unseen.
            train_args=trainer_pb2.TrainArgs(splits=[TRAIN], num_steps=steps),
            eval_args=trainer_pb2.EvalArgs(splits=[EVAL]),
            custom_config=config,
            **trainer_inputs,
        ).with_id(ids.TRAINER)
        baseline = wiring.baseline(spec, home, opts, trainer)
        # Scores candidate and baseline through serving_default on the test split.
        evaluator = Evaluator(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline_model=baseline.outputs["model"],
            example_splits=[TEST],
            eval_config=evaluation.eval_config(spec),
        ).with_id(ids.EVALUATOR)
        gate = self._gate(spec, example_gen, evaluator, trainer, baseline)
        components += [trainer, baseline, evaluator, gate]
        pushed = trainer.outputs["model"]
        if opts.optimize:
            pushed = self._optimizer(spec, opts, components, trainer, transform, gate)
        check = self._serving_check(spec, example_gen, pushed, gate)
        components.append(check)
        pusher = wiring.pusher(spec, home, pushed, check.outputs["blessing"])
        # The run's page: data, evaluation, curves, pictures and the gate's decision.
        report = wiring.report(
            spec,
            pusher,
            statistics=statistics.outputs["statistics"],
            anomalies=validator.outputs["anomalies"],
            evaluation=evaluator.outputs["evaluation"],
            model_run=trainer.outputs["model_run"],
            blessing=check.outputs["blessing"],
        )
        components += [pusher, report]
        return wiring.pipeline(spec, home, opts, components)

    @staticmethod
    def _gate(spec, example_gen, evaluator, trainer, baseline):
        """The ModelGate: threshold, naive predictor and baseline, decided as one."""
        from components.model_gate import Gated, ModelGate

        gated = [
            Gated(
                key=o.key,
                output=o.name,
                metric=o.metric,
                label=o.label,
                higher_is_better=o.higher_is_better,
                threshold=o.threshold,
                margin=o.naive_margin,
                naive_feature=o.naive.feature if o.naive else "",
                naive_lag=o.naive.lag if o.naive else 1,
                naive_factor=o.naive_factor,
            )
            for o in spec.scored
        ]
        # Blesses only a model that clears its gate, beats the naive predictor and the baseline.
        return ModelGate(
            examples=example_gen.outputs["examples"],
            evaluation=evaluator.outputs["evaluation"],
            model=trainer.outputs["model"],
            baseline_model=baseline.outputs["model"],
            outputs=json.dumps([dataclasses.asdict(g) for g in gated]),
            fit_split=TRAIN,
            test_split=TEST,
        ).with_id(ids.MODEL_GATE)

    @staticmethod
    def _serving_check(spec, example_gen, pushed, gate):
        """The ServingCheck of the model the Pusher would push."""
        from components.serving_check import ServingCheck

        # Loads it in a fresh process; its answers on the test split must match the Evaluator.
        return ServingCheck(
            model=pushed,
            examples=example_gen.outputs["examples"],
            gate_blessing=gate.outputs["blessing"],
            outputs=json.dumps([dataclasses.asdict(s) for s in served(spec)]),
            test_split=TEST,
        ).with_id(ids.SERVING_CHECK)

    @staticmethod
    def _optimizer(spec, opts, components, trainer, transform, gate):
        """Adds the ModelOptimizer; returns the Model channel the Pusher pushes."""
        from components.model_optimizer import ModelOptimizer
        from trainers.common.features import xf

        _, optimizer_params = split_overrides(opts.hparams)
        # Prunes and quantises the blessed model to TFLite, scored on held-out examples.
        optimizer = ModelOptimizer(
            model=trainer.outputs["model"],
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            blessing=gate.outputs["blessing"],
            label_key=xf(spec.label),
            problem=spec.problem,
            import_modules=spec.model_module,  # registers the task's custom layers
            params=json.dumps(optimizer_params, sort_keys=True),
            score_split=TEST,
        ).with_id(ids.MODEL_OPTIMIZER)
        components.append(optimizer)
        return optimizer.outputs["optimized_model"]  # the SavedModel plus .tflite files


def served(spec: TaskSpec) -> list:
    """What the ServingCheck reads from the model's answers for each scored output."""
    from components.serving_check import Served
    from trainers.common.features import xf
    from trainers.common.signatures import ANSWER_KEYS, PREDICTION_KEYS, output_key

    return [
        Served(
            key=o.key,
            metric=o.metric,
            # A multi-output model answers what TFMA scores under the output's own name.
            scored=o.name or PREDICTION_KEYS[o.problem],
            label_key=xf(o.label),
            answers=tuple(output_key(o.name, k) if o.name else k for k in ANSWER_KEYS[o.problem]),
        )
        for o in spec.scored
    ]


def example_gen_config(spec: TaskSpec):
    """ExampleGen's input and output config: the newest span, split train/eval/test.

    A dataset that ships its own splits (`given_splits`) keeps them (span-N/train/, eval/,
    test/); otherwise one folder is hash-split 70/15/15.
    """
    from tfx.proto import example_gen_pb2

    files = FILE_PATTERNS[spec.data_format]
    if spec.given_splits:
        data = example_gen_pb2.Input(
            splits=[
                example_gen_pb2.Input.Split(name=name, pattern=f"{SPAN}{{SPAN}}/{name}/{files}")
                for name in SPLITS
            ]
        )
        return data, None
    data = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name="data", pattern=f"{SPAN}{{SPAN}}/{files}")]
    )
    split = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=HASH_BUCKETS[name])
                for name in SPLITS
            ]
        )
    )
    return data, split


KIND = Supervised()
