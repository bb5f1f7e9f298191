import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

from pipelines import spans, tasks
from pipelines.home import Home
from trainers.digits import data
from trainers.digits.features import IMAGE, LABEL
from trainers.spec import TFRECORD, TaskSpec


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return data.write(tmp_path_factory.mktemp("digits"))


def test_tfrecords_parse_back_to_load_digits_exactly(written):
    bunch = load_digits()
    rows = list(data.read(written))
    assert written.name.endswith(".tfrecord.gz")
    assert len(rows) == len(bunch.target) == 1797
    np.testing.assert_array_equal(np.stack([p for p, _ in rows]), bunch.data)
    assert [label for _, label in rows] == bunch.target.tolist()


def test_each_example_has_64_float_pixels_and_an_int_label(written):
    record = next(iter(tf.data.TFRecordDataset(str(written), compression_type="GZIP")))
    feature = tf.train.Example.FromString(record.numpy()).features.feature
    assert set(feature) == {IMAGE, LABEL}
    assert len(feature[IMAGE].float_list.value) == 64
    assert len(feature[LABEL].int64_list.value) == 1


def test_class_subset_keeps_only_those_digits(tmp_path):
    labels = [label for _, label in data.read(data.write(tmp_path, classes=[4, 0, 2]))]
    expected = np.isin(load_digits().target, [0, 2, 4]).sum()
    assert set(labels) == {0, 2, 4} and len(labels) == expected


@pytest.mark.parametrize("classes", [[3, 10], [], [-1]])
def test_class_subset_outside_0_to_9_rejected(classes):
    with pytest.raises(ValueError, match="pick some of 0..9"):
        data.load(classes)


def test_example_without_label_is_a_serving_example():
    example = tf.train.Example.FromString(data.to_example(np.arange(64.0)))
    assert set(example.features.feature) == {IMAGE}


def test_task_data_options_pick_the_classes_of_its_span(tmp_path):
    spec = TaskSpec(
        name="digits_low",
        kind="supervised",
        trainer="trainers.digits_mlp",
        data="trainers.digits.data",
        dataset="digits 0-4",
        label=LABEL,
        problem="classification",
        metric="accuracy",
        threshold=0.9,
        data_options={"classes": [0, 1, 2, 3, 4]},
    )
    root = spans.input_dir(Home(tmp_path), spec)
    span = root / "span-1" / data.FILENAME
    assert {label for _, label in data.read(span)} == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    "name", ["digits_mlp", "subclassed", "cnn_vgg_digits", "cnn_resnet_digits"]
)
def test_builtin_digits_tasks_write_all_ten_digits_as_tfrecords(tmp_path, name):
    spec = tasks.get(name, Home(tmp_path))
    assert spec.data == "trainers.digits.data" and spec.label == LABEL
    assert spec.data_format == TFRECORD  # declared: ExampleGen imports the tf.Examples
    root = spans.input_dir(Home(tmp_path), spec)
    assert list((root / "span-1").glob("*.tfrecord*"))
    if name == "digits_mlp":  # one full read is enough
        labels = {label for _, label in data.read(root / "span-1" / data.FILENAME)}
        assert labels == set(range(10))
