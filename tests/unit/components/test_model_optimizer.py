"""The ModelOptimizer component: a thin TFX wrapper over trainers.common.optimization.

The library itself is tested in tests/unit/trainers/test_optimization.py; here, that it needs no
TFX, and that the decorated function (TFX's `test_call`) resolves artifacts, honours the
blessing and records the report as the custom properties pipelines/metadata.py reads.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tfx.types import artifact_utils, standard_artifacts

from components import model_optimizer as mo
from pipelines import metadata
from trainers.common.layers import FeatureVector
from trainers.common.optimization import job, params

ROOT = pathlib.Path(__file__).resolve().parents[3]
LIBRARY = ROOT / "trainers" / "common" / "optimization"
LABEL = "label_xf"
SPEC = {
    "a_xf": tf.io.FixedLenFeature([], tf.float32),
    "c_xf": tf.io.FixedLenFeature([], tf.int64),
    LABEL: tf.io.FixedLenFeature([], tf.int64),
}


def _imported(path: pathlib.Path) -> set[str]:
    """Every module `path` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_library_imports_nothing_from_tfx():
    modules = sorted(LIBRARY.glob("*.py"))
    assert {p.stem for p in modules} >= {"data", "scoring", "pruning", "conversion", "job"}
    for path in modules:
        tfx = [m for m in _imported(path) if m == "tfx" or m.startswith("tfx.")]
        assert not tfx, f"{path.name} imports {tfx}"
    # Nor does anything it imports pull TFX in.
    names = ", ".join(f"trainers.common.optimization.{p.stem}" for p in modules)
    code = f"import sys, {names}; print([m for m in sys.modules if m.split('.')[0] == 'tfx'])"
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_the_component_module_re_exports_the_library_names_it_used_to_define():
    assert mo.OptimizeParams is params.OptimizeParams
    assert (mo.TFLITE_FILE, mo.INT8_FILE, mo.REPORT_FILE) == (
        job.TFLITE_FILE,
        job.INT8_FILE,
        job.REPORT_FILE,
    )


def test_record_writes_the_flat_report_as_typed_custom_properties():
    artifact = standard_artifacts.Model()
    report = {
        "metric": "rmse",
        "eval_examples": 10,
        "float_weights_bytes": 400,
        "variants": {"int8": {"bytes": 100, "value": 0.5, "float_ops": ""}},
    }
    mo.record(artifact, report)
    assert artifact.get_int_custom_property("optimized") == 1
    assert artifact.get_string_custom_property("variants") == "int8"
    assert artifact.get_int_custom_property("int8_bytes") == 100
    assert artifact.get_float_custom_property("int8_rmse") == 0.5
    assert metadata._optimizer_record(artifact.mlmd_artifact) == {
        "metric": "rmse",
        "float_weights_bytes": 400,
        "int8": {"bytes": 100, "float_ops": "", "rmse": 0.5},
    }


def _artifact(kind, uri, **custom):
    artifact = kind()
    artifact.uri = str(uri)
    for key, value in custom.items():
        artifact.set_int_custom_property(key, value)
    return artifact


def test_a_model_the_evaluator_did_not_bless_is_not_optimised(tmp_path):
    out = _artifact(standard_artifacts.Model, tmp_path / "out")
    mo.ModelOptimizer.test_call(
        model=_artifact(standard_artifacts.Model, tmp_path / "missing"),
        examples=_artifact(standard_artifacts.Examples, tmp_path / "missing"),
        transform_graph=_artifact(standard_artifacts.TransformGraph, tmp_path / "missing"),
        optimized_model=out,
        label_key=LABEL,
        problem="classification",
        blessing=_artifact(standard_artifacts.ModelBlessing, tmp_path / "b", blessed=0),
    )
    assert out.get_int_custom_property("optimized") == 0
    assert not (tmp_path / "out").exists()


def _write_split(folder: pathlib.Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(folder / "data.gz"), options="GZIP") as writer:
        for a, c in zip(rng.normal(size=n), rng.integers(0, 3, n), strict=True):
            feature = {
                "a_xf": tf.train.Feature(float_list=tf.train.FloatList(value=[a])),
                "c_xf": tf.train.Feature(int64_list=tf.train.Int64List(value=[int(c)])),
                LABEL: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(a > 0)])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


@pytest.fixture
def artifacts(tmp_path):
    """Trainer, Transform outputs as TFX lays them out: a tiny model and 64-row splits."""
    import tensorflow_transform as tft
    from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io, schema_utils

    examples = _artifact(standard_artifacts.Examples, tmp_path / "examples")
    examples.split_names = artifact_utils.encode_split_names(["train", "eval", "test"])
    _write_split(tmp_path / "examples" / "Split-train", 64, seed=1)
    _write_split(tmp_path / "examples" / "Split-eval", 32, seed=2)
    _write_split(
        tmp_path / "examples" / "Split-test", 64, seed=3
    )  # what the variants are scored on
    graph = _artifact(standard_artifacts.TransformGraph, tmp_path / "transform")
    schema = schema_utils.schema_from_feature_spec(SPEC)
    metadata_io.write_metadata(
        dataset_metadata.DatasetMetadata(schema),
        str(tmp_path / "transform" / tft.TFTransformOutput.TRANSFORMED_METADATA_DIR),
    )
    inputs = {
        "a_xf": tf.keras.Input(shape=(), name="a_xf"),
        "c_xf": tf.keras.Input(shape=(), name="c_xf", dtype=tf.int64),
    }
    features = FeatureVector(["a_xf"], {"c_xf": 3})(inputs)
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(2, activation="softmax")(features))
    model.save(str(tmp_path / "model" / "Format-Serving"))
    trained = _artifact(standard_artifacts.Model, tmp_path / "model")
    return trained, examples, graph


def test_the_component_writes_the_optimised_model_and_records_its_report(tmp_path, artifacts):
    model, examples, graph = artifacts
    out = _artifact(standard_artifacts.Model, tmp_path / "out")
    mo.ModelOptimizer.test_call(
        model=model,
        examples=examples,
        transform_graph=graph,
        optimized_model=out,
        label_key=LABEL,
        problem="classification",
        import_modules="trainers.common.layers",
        params=json.dumps({"prune_steps": 4, "calibration_examples": 8}),
        blessing=_artifact(standard_artifacts.ModelBlessing, tmp_path / "b", blessed=1),
    )
    serving = tmp_path / "out" / "Format-Serving"
    for name in ("saved_model.pb", "variables", job.TFLITE_FILE, job.INT8_FILE, job.REPORT_FILE):
        assert (serving / name).exists(), name
    report = json.loads((serving / job.REPORT_FILE).read_text())
    assert report["params"]["prune_steps"] == 4 and report["eval_examples"] == 64
    assert out.get_int_custom_property("optimized") == 1
    assert out.get_string_custom_property("variants") == "saved_model,pruned,dynamic_range,int8"
    assert out.get_string_custom_property("int8_float_ops") == "ONE_HOT"
    record = metadata._optimizer_record(out.mlmd_artifact)
    assert record["metric"] == "accuracy"
    assert record["float_weights_bytes"] == report["float_weights_bytes"]
    assert record["int8"]["accuracy"] == report["variants"]["int8"]["value"]
    assert record["pruned"]["layers"] == 1


def test_a_model_artifact_without_a_saved_model_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="Format-Serving"):
        mo.serving_dir(_artifact(standard_artifacts.Model, tmp_path / "empty"))
