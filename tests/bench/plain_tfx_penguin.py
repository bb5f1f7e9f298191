"""Plain TFX 1.16 penguin pipeline, written as a user writes it from the TFX penguin template.

The reference `bench_pipeline.py` times kfx against: CsvExampleGen → StatisticsGen →
SchemaGen → ExampleValidator → Transform → Trainer → LatestBlessedModel Resolver → Evaluator
→ Pusher on LocalDagRunner, sqlite MLMD and the pipeline root in a temporary directory. The
Transform and Trainer take a `module_file` (a copy of this file, alone in its folder, so TFX
packages only it into its user-code wheel) holding `preprocessing_fn` and `run_fn`: the same
features and the same 2×16 MLP (Dense without bias, He init, L2 1e-4, BatchNorm, ReLU,
dropout 0.1; Adam 1e-2, batch 32) and the same 1000 train steps as kfx's penguin task, on
the same CSV (palmerpenguins, written by kfx's penguin data module). TFX's defaults
otherwise: `from tfx import v1 as tfx`, the 2:1 train/eval hash split, SchemaGen, no Beam
arguments. Nothing of kfx runs inside the pipeline.

    .venv/bin/python tests/bench/plain_tfx_penguin.py [--keep DIR]

Prints one JSON line: the Evaluator's accuracy on TFX's eval split, blessed, pushed, and
the seconds of the pipeline run inside this process.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.keras = Keras 2 (tf_keras), as kfx

import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
from tfx import v1 as tfx  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

LABEL = "species"
NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
CATEGORICAL = ["island", "sex"]
TRAIN_STEPS, EVAL_STEPS, BATCH = 1000, 5, 32
THRESHOLD = 0.97  # kfx penguin's accuracy gate


def _xf(key):
    return f"{key}_xf"


def _dense(x, default):
    """[batch, 1] values of a CSV column; missing cells (a SparseTensor) become `default`."""
    if isinstance(x, tf.sparse.SparseTensor):
        x = tf.sparse.to_dense(tf.sparse.reset_shape(x, [x.dense_shape[0], 1]), default)
    return tf.reshape(x, [-1, 1])


# TFX Transform calls this (module_file).
def preprocessing_fn(inputs):
    """Measurements z-scored (missing → the mean), island and sex and species as ids."""
    outputs = {}
    for key in NUMERIC:
        values = tf.cast(inputs[key], tf.float32)
        mean = tft.mean(values)
        outputs[_xf(key)] = tft.scale_to_z_score(_dense(values, mean))
    for key in CATEGORICAL:
        outputs[_xf(key)] = tft.compute_and_apply_vocabulary(
            _dense(inputs[key], ""), num_oov_buckets=1, vocab_filename=key
        )
    outputs[_xf(LABEL)] = tft.compute_and_apply_vocabulary(
        _dense(inputs[LABEL], ""), vocab_filename=LABEL
    )
    return outputs


def _input_fn(file_pattern, data_accessor, tf_transform_output, batch_size):
    return data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, label_key=_xf(LABEL)),
        tf_transform_output.transformed_metadata.schema,
    ).repeat()


def _build_keras_model(tf_transform_output):
    inputs = {_xf(k): tf.keras.Input(shape=(1,), name=_xf(k)) for k in NUMERIC}
    inputs |= {_xf(k): tf.keras.Input(shape=(1,), name=_xf(k), dtype=tf.int64) for k in CATEGORICAL}
    parts = [inputs[_xf(k)] for k in NUMERIC]
    for key in CATEGORICAL:
        depth = tf_transform_output.vocabulary_size_by_name(key) + 1
        parts.append(tf.keras.layers.CategoryEncoding(depth, "one_hot")(inputs[_xf(key)]))
    x = tf.keras.layers.Concatenate()(parts)
    for _ in range(2):
        x = tf.keras.layers.Dense(
            16,
            use_bias=False,
            kernel_initializer="he_normal",
            kernel_regularizer=tf.keras.regularizers.l2(1e-4),
        )(x)
        x = tf.keras.layers.BatchNormalization()(x)
        x = tf.keras.layers.Activation("relu")(x)
        x = tf.keras.layers.Dropout(0.1)(x)
    classes = tf_transform_output.vocabulary_size_by_name(LABEL)
    outputs = tf.keras.layers.Dense(classes, activation="softmax")(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-2),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def _signatures(model, tf_transform_output):
    """serving_default: raw tf.Examples → probabilities; transform_features: for TFMA's label."""
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    serving_spec = {k: v for k, v in raw_spec.items() if k != LABEL}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve(examples):
        transformed = model.tft_layer(tf.io.parse_example(examples, serving_spec))
        return {"outputs": model({k: transformed[k] for k in model.input})}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(examples):
        return model.tft_layer(tf.io.parse_example(examples, raw_spec))

    return {"serving_default": serve, "transform_features": transform_features}


# TFX Trainer calls this (module_file).
def run_fn(fn_args: tfx.components.FnArgs):
    """Trains the 2×16 MLP for `train_steps` and exports it with raw-example signatures."""
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    train = _input_fn(fn_args.train_files, fn_args.data_accessor, tf_transform_output, BATCH)
    evaluation = _input_fn(fn_args.eval_files, fn_args.data_accessor, tf_transform_output, BATCH)
    model = _build_keras_model(tf_transform_output)
    model.fit(
        train,
        steps_per_epoch=fn_args.train_steps,
        validation_data=evaluation,
        validation_steps=fn_args.eval_steps,
    )
    model.save(
        fn_args.serving_model_dir,
        save_format="tf",
        signatures=_signatures(model, tf_transform_output),
    )


def create_pipeline(name, root, data_root, module_file, serving_dir, metadata_path):
    """The template's pipeline, component for component."""
    import tensorflow_model_analysis as tfma

    example_gen = tfx.components.CsvExampleGen(input_base=data_root)
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs["statistics"])
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema_gen.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema_gen.outputs["schema"],
        module_file=module_file,
    )
    trainer = tfx.components.Trainer(
        module_file=module_file,
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema_gen.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=TRAIN_STEPS),
        eval_args=tfx.proto.EvalArgs(num_steps=EVAL_STEPS),
    )
    model_resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
        model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model),
        model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing),
    ).with_id("latest_blessed_model_resolver")
    eval_config = tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name="serving_default",
                label_key=_xf(LABEL),
                preprocessing_function_names=["transform_features"],
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(
                        class_name="SparseCategoricalAccuracy",
                        threshold=tfma.MetricThreshold(
                            value_threshold=tfma.GenericValueThreshold(
                                lower_bound={"value": THRESHOLD}
                            ),
                            change_threshold=tfma.GenericChangeThreshold(
                                direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                absolute={"value": -1e-10},
                            ),
                        ),
                    )
                ]
            )
        ],
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        baseline_model=model_resolver.outputs["model"],
        eval_config=eval_config,
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=serving_dir)
        ),
    )
    return tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=root,
        components=[
            example_gen,
            statistics_gen,
            schema_gen,
            example_validator,
            transform,
            trainer,
            model_resolver,
            evaluator,
            pusher,
        ],
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            metadata_path
        ),
    )


def _outcome(root: str, serving_dir: str) -> dict:
    """Accuracy and blessing the Evaluator wrote, and whether the Pusher pushed."""
    import glob

    import tensorflow_model_analysis as tfma

    (evaluation,) = glob.glob(os.path.join(root, "Evaluator", "evaluation", "*"))
    accuracy = None
    for metrics in tfma.load_metrics(evaluation):
        if not metrics.slice_key.single_slice_keys:
            for item in metrics.metric_keys_and_values:
                if item.key.name == "sparse_categorical_accuracy" and not item.key.is_diff:
                    accuracy = item.value.double_value.value
    blessed = bool(glob.glob(os.path.join(root, "Evaluator", "blessing", "*", "BLESSED")))
    pushed = bool(os.path.isdir(serving_dir) and os.listdir(serving_dir))
    return {"accuracy": accuracy, "blessed": blessed, "pushed": pushed, "split": "eval"}


def main() -> None:
    import argparse
    import json
    import shutil
    import sys
    import tempfile
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="plain-tfx-penguin-"))
    start = time.monotonic()
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from trainers.penguin import data  # the same CSV as kfx's penguin task

        data.write(work / "data")
        module_dir = work / "module"
        module_dir.mkdir(parents=True, exist_ok=True)
        module_file = str(module_dir / "penguin_utils.py")
        shutil.copyfile(__file__, module_file)
        root, serving = str(work / "pipeline"), str(work / "serving")
        pipeline = create_pipeline(
            "plain-penguin",
            root,
            str(work / "data"),
            module_file,
            serving,
            str(work / "metadata.sqlite"),
        )
        tfx.orchestration.LocalDagRunner().run(pipeline)
        outcome = _outcome(root, serving)
        print(json.dumps({**outcome, "pipeline_s": round(time.monotonic() - start, 3)}))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
