import numpy as np
import pytest
import tensorflow as tf

from trainers.common import keras_trainer, mlp, precision, signatures, transforms
from trainers.common.features import LABEL_VOCAB, InputFeatures, xf
from trainers.common.keras_trainer import Context, FitParams

FEATURES = InputFeatures(numeric=("a_xf", "a_na"), categorical={"c_xf": 4})
CLASSIFY = Context(FEATURES, "classification", n_classes=3, train_steps=4)
REGRESS = Context(FEATURES, "regression", 0, label_mean=100.0, label_std=10.0, train_steps=4)
BATCH = {
    "a_xf": tf.constant([0.5, -1.0, 2.0, 0.0, 1.0, -0.5, 0.3, 1.2]),
    "a_na": tf.constant([0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]),
    "c_xf": tf.constant([0, 3, 1, 2, 1, 0, 2, 3], dtype=tf.int64),
}


def _build(ctx, policy, **hp):
    tf.keras.utils.set_random_seed(0)
    with precision.policy(policy):
        return mlp.build(ctx, mlp.HParams(**hp))


def test_auto_is_float16_only_with_a_gpu():
    gpu = bool(tf.config.list_physical_devices("GPU"))
    assert precision.resolve("auto") == ("mixed_float16" if gpu else "float32")
    assert precision.resolve("mixed_bfloat16") == "mixed_bfloat16"


def test_unknown_precision_is_rejected():
    with pytest.raises(ValueError, match="precision 'half': use one of float32, mixed_bfloat16"):
        FitParams(precision="half")


def test_policy_is_set_inside_and_restored_after_also_on_error():
    before = tf.keras.mixed_precision.global_policy().name
    with precision.policy("mixed_bfloat16") as inside:
        assert inside.name == tf.keras.mixed_precision.global_policy().name == "mixed_bfloat16"
    assert tf.keras.mixed_precision.global_policy().name == before
    with pytest.raises(RuntimeError), precision.policy("mixed_float16"):
        raise RuntimeError("build failed")
    assert tf.keras.mixed_precision.global_policy().name == before


def test_bfloat16_model_computes_hidden_layers_in_bfloat16_and_outputs_float32():
    model = _build(CLASSIFY, "mixed_bfloat16")
    blocks = model.get_layer("blocks").layers
    hidden, output = blocks[0], blocks[-1]
    assert hidden.compute_dtype == "bfloat16" and hidden.kernel.dtype == tf.float32
    assert output.compute_dtype == "float32"
    assert model(BATCH, training=False).dtype == tf.float32
    assert not isinstance(model.optimizer, tf.keras.mixed_precision.LossScaleOptimizer)


def test_bfloat16_model_trains_and_predicts_float32():
    model = _build(CLASSIFY, "mixed_bfloat16", learning_rate=0.05)
    labels = tf.constant([0, 1, 2, 0, 1, 2, 0, 1])
    history = model.fit(BATCH, labels, batch_size=4, epochs=3, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    predicted = model.predict(BATCH, verbose=0)
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted.sum(axis=1), 1.0, rtol=1e-5)


def test_float16_model_gets_loss_scaling_and_float32_regression_outputs():
    model = _build(REGRESS, "mixed_float16")
    assert isinstance(model.optimizer, tf.keras.mixed_precision.LossScaleOptimizer)
    assert model.get_layer("blocks").layers[0].compute_dtype == "float16"
    out = model(BATCH, training=False)
    assert out.dtype == tf.float32 and np.isfinite(out.numpy()).all()


def test_float32_default_is_unchanged():
    model = _build(CLASSIFY, FitParams().precision)
    assert {layer.compute_dtype for layer in model.get_layer("blocks").layers} == {"float32"}


@pytest.fixture(scope="module")
def transform_output(tmp_path_factory):
    """A real tf.Transform output for two raw columns and a class label."""
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_transform.tf_metadata import metadata_io, schema_utils
    from tensorflow_transform.tf_metadata.dataset_metadata import DatasetMetadata

    spec = {
        "a": tf.io.FixedLenFeature([], tf.float32),
        "c": tf.io.FixedLenFeature([], tf.string),
        "y": tf.io.FixedLenFeature([], tf.string),
    }
    rows = [
        {"a": float(i % 5), "c": "uvw"[i % 3], "y": "pq"[i % 2] if i % 3 else "s"}
        for i in range(30)
    ]
    out = str(tmp_path_factory.mktemp("tft_out"))
    metadata = DatasetMetadata(schema_utils.schema_from_feature_spec(spec))

    def preprocessing_fn(inputs):
        return transforms.tabular(inputs, "y", "classification", features=["a", "c"])

    with beam.Pipeline() as pipeline:
        with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft_tmp"))):
            raw = pipeline | beam.Create(rows)
            transform_fn = (raw, metadata) | tft_beam.AnalyzeDataset(preprocessing_fn)
            _ = transform_fn | tft_beam.WriteTransformFn(out)
    # TFX's Transform also writes the raw schema, which the serving signature parses with.
    metadata_io.write_metadata(metadata, f"{out}/{tft.TFTransformOutput.RAW_METADATA_DIR}")
    return tft.TFTransformOutput(out), rows


def test_exported_bfloat16_model_serves_float32_that_matches_the_model(tmp_path, transform_output):
    output, rows = transform_output
    features = InputFeatures.from_transform_output(output, "y")
    ctx = Context(features, "classification", output.vocabulary_size_by_name(LABEL_VOCAB), 0)
    model = _build(ctx, "mixed_bfloat16")
    raw = {k: tf.constant([r[k] for r in rows]) for k in ("a", "c", "y")}
    transformed = output.transform_features_layer()(raw)
    inputs = {k: transformed[k] for k in features.keys}
    labels = transformed[xf("y")]
    model.fit(inputs, labels, batch_size=10, epochs=2, verbose=0)

    signatures.export(model, str(tmp_path / "model"), output, "y", "classification")

    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    "a": tf.train.Feature(float_list=tf.train.FloatList(value=[r["a"]])),
                    "c": tf.train.Feature(bytes_list=tf.train.BytesList(value=[r["c"].encode()])),
                }
            )
        ).SerializeToString()
        for r in rows
    ]
    served = serve(examples=tf.constant(examples))
    assert served["probabilities"].dtype == tf.float32 and served["score"].dtype == tf.float32
    np.testing.assert_allclose(
        served["probabilities"].numpy(), model.predict(inputs, verbose=0), atol=1e-6
    )


def test_compile_model_accepts_a_plain_rate():
    model = _build(CLASSIFY, "float32")
    keras_trainer.compile_model(model, CLASSIFY, 0.25)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.25)
