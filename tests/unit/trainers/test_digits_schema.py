import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from pipelines.home import Home
from pipelines.tasks import get
from trainers.digits import data
from trainers.digits.features import IMAGE, LABEL
from trainers.spec import SCHEMAS_DIR

SCHEMA = SCHEMAS_DIR / "digits" / "schema.pbtxt"


@pytest.fixture(scope="module")
def schema():
    return text_format.Parse(SCHEMA.read_text(), schema_pb2.Schema())


def test_every_digits_task_uses_this_schema(tmp_path):
    for name in ("digits_mlp", "subclassed", "cnn_vgg_digits", "cnn_resnet_digits"):
        assert get(name, Home(tmp_path)).schema_path == SCHEMA


def test_fixed_image_shape_and_label_not_served(schema):
    from tensorflow_transform.tf_metadata import schema_utils

    spec = schema_utils.schema_as_feature_spec(schema).feature_spec
    assert spec[IMAGE] == tf.io.FixedLenFeature([8, 8], tf.float32)
    assert spec[LABEL] == tf.io.FixedLenFeature([], tf.int64)
    environments = {f.name: list(f.not_in_environment) for f in schema.feature}
    assert environments == {IMAGE: [], LABEL: ["SERVING"]}


def _anomalies(path, schema):
    import tensorflow_data_validation as tfdv

    stats = tfdv.generate_statistics_from_tfrecord(data_location=str(path))
    return tfdv.validate_statistics(stats, schema).anomaly_info


def _write(path, rows):
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for pixels, label in rows:
            writer.write(data.to_example(pixels, label))
    return path


@pytest.fixture(scope="module")
def rows():
    pixels, labels = data.load()
    return list(zip(pixels[:120], labels[:120], strict=True))


def test_default_data_has_no_anomalies(tmp_path, schema):
    assert dict(_anomalies(data.write(tmp_path), schema)) == {}


@pytest.mark.parametrize(
    "change, column, words",
    [
        (lambda p, y: (p * 16, y), IMAGE, ">16"),  # 0..255 images
        (lambda p, y: (p[:63], y), IMAGE, "value lengths vary"),  # a 63-pixel image
        (lambda p, y: (p, 11), LABEL, "11"),  # not a digit
    ],
)
def test_bad_span_is_an_anomaly(tmp_path, schema, rows, change, column, words):
    bad = list(rows)
    bad[7] = change(*bad[7])
    anomalies = _anomalies(_write(tmp_path / "data.tfrecord.gz", bad), schema)
    assert set(anomalies) == {column}
    assert words in anomalies[column].description
