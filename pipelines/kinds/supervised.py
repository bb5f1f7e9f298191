"""The supervised kind: one factory for every task that learns from labelled examples.

ExampleGen → StatisticsGen → SchemaGen | ImportSchemaGen → ExampleValidator → AnomalyGate →
Transform → [Tuner] → Trainer → baseline Resolver → Evaluator → [ModelOptimizer] → Pusher. A
task with a `source_task` gets that task's newest pushed model as the Trainer's `base_model`.
"""

from __future__ import annotations

import json

from pipelines import evaluation, ids, predict, wiring
from pipelines.errors import TaskError
from pipelines.kinds.base import Kind
from pipelines.options import RunOptions, split_overrides
from pipelines.spans import SPAN
from trainers import manifest
from trainers.contract import Head, TrainerConfig
from trainers.spec import TFRECORD, TaskSpec

# train/eval is a 2:1 hash split of the newest span.
SPLITS = (("train", 2), ("eval", 1))
FILE_PATTERNS = {TFRECORD: "*.tfrecord*", "csv": "*.csv*"}  # data.tfrecord.gz: tf.Examples


class Supervised(Kind):
    """Tasks trained by TFX's Trainer on validated, transformed examples."""

    name = "supervised"
    training_nodes = (ids.TRAINER, ids.TUNER)
    evaluation_node = ids.EVALUATOR
    supports_tuning = True
    supports_optimize = True

    def check(self, spec: TaskSpec, opts: RunOptions) -> None:
        """Also refuses `--warm-start` for a task whose Trainer input holds its source model."""
        super().check(spec, opts)
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

    def predict(self, model_dir, model_manifest, frame, source: str):
        """Rows as raw tf.Examples through `serving_default`: prediction and score columns."""
        if model_manifest.kind != manifest.EXAMPLES:
            raise TaskError(f"{model_dir}: a {model_manifest.kind} model, not a supervised one")
        return predict.examples(model_dir, model_manifest, frame, source)

    def create_pipeline(self, spec: TaskSpec, home, opts: RunOptions):
        """Builds the TFX pipeline of a supervised task (same object for local and Kubeflow)."""
        # Not `from tfx import v1`: that also imports the Vertex AI extensions (~1.3 s).
        from tfx import components as tfc
        from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
        from tfx.proto import example_gen_pb2, trainer_pb2

        from components.anomaly_gate import AnomalyGate

        config = self.trainer_config(spec, opts).to_custom_config()
        steps = opts.train_steps or spec.train_steps

        tfrecords = spec.data_format == TFRECORD
        # The newest span-N folder is this run's data.
        data = example_gen_pb2.Input(
            splits=[
                example_gen_pb2.Input.Split(
                    name="data", pattern=f"{SPAN}{{SPAN}}/{FILE_PATTERNS[spec.data_format]}"
                )
            ]
        )
        split = example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(name=name, hash_buckets=buckets)
                    for name, buckets in SPLITS
                ]
            )
        )
        gen_class, gen_id = (
            (tfc.ImportExampleGen, ids.IMPORT_EXAMPLE_GEN)
            if tfrecords
            else (tfc.CsvExampleGen, ids.CSV_EXAMPLE_GEN)
        )
        # Reads the newest span and splits it.
        example_gen = gen_class(
            input_base=str(opts.input_dir), input_config=data, output_config=split
        ).with_id(gen_id)
        # Profiles every split.
        statistics = tfc.StatisticsGen(examples=example_gen.outputs["examples"]).with_id(
            ids.STATISTICS_GEN
        )
        if spec.schema_path is not None:
            # The curated schema new data must match.
            schema_gen = ImportSchemaGen(schema_file=str(spec.schema_path)).with_id(
                ids.IMPORT_SCHEMA_GEN
            )
            schema_hint = str(spec.schema_path)
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
        # Stops the run on any anomaly; what follows consumes its schema.
        gate = AnomalyGate(
            anomalies=validator.outputs["anomalies"],
            schema=schema_gen.outputs["schema"],
            schema_hint=schema_hint,
        ).with_id(ids.ANOMALY_GATE)
        schema = gate.outputs["validated_schema"]
        # Features for the model, computed once with full-pass statistics.
        transform = tfc.Transform(
            examples=example_gen.outputs["examples"],
            schema=schema,
            preprocessing_fn=f"{spec.preprocessing_module}.preprocessing_fn",
            # Only what preprocessing needs: tuning options must not invalidate Transform's cache.
            custom_config=TrainerConfig(label=spec.label, problem=spec.problem).to_custom_config(),
            # StatisticsGen already profiles the raw data; pre/post-transform statistics cost
            # a third of Transform's time on small data.
            disable_statistics=True,
            force_tf_compat_v1=True,
        ).with_id(ids.TRANSFORM)
        components = [example_gen, statistics, schema_gen, validator, gate, transform]
        trainer_inputs = {}
        if opts.tune:
            # Searches the task's hyper-parameter space; the Trainer uses the best values.
            tuner = tfc.Tuner(
                tuner_fn=f"{spec.model_module}.tuner_fn",
                examples=transform.outputs["transformed_examples"],
                transform_graph=transform.outputs["transform_graph"],
                train_args=trainer_pb2.TrainArgs(num_steps=steps),
                eval_args=trainer_pb2.EvalArgs(),
                custom_config=config,
            ).with_id(ids.TUNER)
            components.append(tuner)
            trainer_inputs["hyperparameters"] = tuner.outputs["best_hyperparameters"]
        if spec.source_task:  # a backbone or a teacher: the Trainer's base_model
            source, source_model = wiring.source_model(spec, opts)
            components.append(source)
            trainer_inputs["base_model"] = source_model
        else:
            trainer_inputs.update(wiring.warm_start_inputs(opts, components))
        # Trains the task's model and exports it with the serving signatures.
        trainer = tfc.Trainer(
            run_fn=f"{spec.model_module}.run_fn",
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            schema=schema,
            train_args=trainer_pb2.TrainArgs(num_steps=steps),
            eval_args=trainer_pb2.EvalArgs(),
            custom_config=config,
            **trainer_inputs,
        ).with_id(ids.TRAINER)
        baseline = wiring.baseline_resolver(opts, trainer)
        # Scores candidate and baseline through serving_default; blesses or not.
        evaluator = tfc.Evaluator(
            examples=example_gen.outputs["examples"],
            model=trainer.outputs["model"],
            baseline_model=baseline.outputs["model"],
            eval_config=evaluation.eval_config(spec),
        ).with_id(ids.EVALUATOR)
        components += [trainer, baseline, evaluator]
        pushed = trainer.outputs["model"]
        if opts.optimize:
            pushed = self._optimizer(spec, opts, components, trainer, transform, evaluator)
        components.append(wiring.pusher(spec, home, pushed, evaluator.outputs["blessing"]))
        return wiring.pipeline(spec, home, opts, components)

    @staticmethod
    def _optimizer(spec, opts, components, trainer, transform, evaluator):
        """Adds the ModelOptimizer; returns the Model channel the Pusher pushes."""
        from components.model_optimizer import ModelOptimizer
        from trainers.common.features import xf

        _, optimizer_params = split_overrides(opts.hparams)
        # Prunes and quantises the blessed model to TFLite, scored on held-out examples.
        optimizer = ModelOptimizer(
            model=trainer.outputs["model"],
            examples=transform.outputs["transformed_examples"],
            transform_graph=transform.outputs["transform_graph"],
            blessing=evaluator.outputs["blessing"],
            label_key=xf(spec.label),
            problem=spec.problem,
            import_modules=spec.model_module,  # registers the task's custom layers
            params=json.dumps(optimizer_params, sort_keys=True),
        ).with_id(ids.MODEL_OPTIMIZER)
        components.append(optimizer)
        return optimizer.outputs["optimized_model"]  # the SavedModel plus .tflite files


KIND = Supervised()
