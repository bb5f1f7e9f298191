import numpy as np
import pytest
import tensorflow_transform.beam as tft_beam
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tensorflow_transform.tf_metadata import schema_utils
from tensorflow_transform.tf_metadata.dataset_metadata import DatasetMetadata

from trainers.digits import data
from trainers.digits.preprocessing import preprocessing_fn
from trainers.spec import SCHEMAS_DIR

ROWS = 60


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    schema = text_format.Parse(
        (SCHEMAS_DIR / "digits" / "schema.pbtxt").read_text(), schema_pb2.Schema()
    )
    metadata = DatasetMetadata(schema)
    pixels, labels = data.load()
    rows = [
        {"pixels": p.reshape(8, 8), "label": int(y)}
        for p, y in zip(pixels[:ROWS], labels[:ROWS], strict=True)
    ]
    new = [{"pixels": np.full((8, 8), 8.0, np.float32), "label": 3}]
    with tft_beam.Context(temp_dir=str(tmp_path_factory.mktemp("tft"))):
        (out, out_metadata), transform_fn = (
            rows,
            metadata,
        ) | tft_beam.AnalyzeAndTransformDataset(preprocessing_fn)
        served, _ = ((new, metadata), transform_fn) | tft_beam.TransformDataset()
    return pixels[:ROWS], labels[:ROWS], out, out_metadata, served


def test_pixels_become_8x8x1_images_scaled_to_0_1(transformed):
    pixels, _, out, metadata, _ = transformed
    images = np.stack([row["pixels_xf"] for row in out])
    assert images.shape == (ROWS, 8, 8, 1)
    assert images.min() == 0.0 and images.max() == 1.0
    # The data's range is 0..16, so tft's min-max scaling is pixels / 16.
    np.testing.assert_allclose(images.reshape(ROWS, 64), pixels / 16.0, atol=1e-6)
    spec = schema_utils.schema_as_feature_spec(metadata.schema).feature_spec
    assert list(spec["pixels_xf"].shape) == [8, 8, 1]


def test_new_data_gets_the_training_scale(transformed):
    *_, served = transformed
    assert np.asarray(served[0]["pixels_xf"]) == pytest.approx(np.full((8, 8, 1), 0.5))


def test_labels_map_to_one_id_per_digit(transformed):
    _, labels, out, _, _ = transformed
    ids = [int(row["label_xf"]) for row in out]
    pairs = set(zip(labels.tolist(), ids, strict=True))
    assert len(pairs) == len(set(labels.tolist())) == len(set(ids))
    assert set(ids) == set(range(len(set(ids))))
