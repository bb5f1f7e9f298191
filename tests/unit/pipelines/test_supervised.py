import dataclasses
import json

import pytest
from google.protobuf import json_format, text_format
from tfx.proto import trainer_pb2

from pipelines import evaluation, kinds, local, tasks
from pipelines.errors import TaskError
from pipelines.home import Home
from pipelines.options import RunOptions

CHAIN = [
    "CsvExampleGen",
    "StatisticsGen",
    "ExampleValidator",
    "AnomalyGate",
    "Transform",
    "Trainer",
    "baseline_model_resolver",
    "Evaluator",
    "Pusher",
    "Report",
]


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path / "home")


@pytest.fixture
def penguin(home):
    return tasks.get("penguin", home)


def _pipeline(spec, home, tmp_path, **options):
    return kinds.get("supervised").create_pipeline(
        spec, home, RunOptions(input_dir=tmp_path, **options)
    )


def _ids(pipeline):
    return [c.id for c in pipeline.components]


def _component(pipeline, node_id):
    return next(c for c in pipeline.components if c.id == node_id)


def test_component_order(penguin, home, tmp_path):
    ids = _ids(_pipeline(penguin, home, tmp_path))
    assert [i for i in ids if i in CHAIN] == CHAIN
    assert ids.index("ImportSchemaGen") < ids.index("ExampleValidator")
    assert "SchemaGen" not in ids
    assert "Tuner" not in ids
    assert "warm_start_model_resolver" not in ids


def test_pipeline_settings(penguin, home, tmp_path):
    pipeline = _pipeline(penguin, home, tmp_path, enable_cache=False)
    assert pipeline.pipeline_info.pipeline_name == "penguin"
    assert pipeline.pipeline_info.pipeline_root == str(home.pipeline_root("penguin"))
    assert pipeline.enable_cache is False
    assert str(home.metadata_path) in str(pipeline.metadata_connection_config)


def test_downstream_reads_validated_schema(penguin, home, tmp_path):
    pipeline = _pipeline(penguin, home, tmp_path)
    for node in ("Transform", "Trainer"):
        assert _component(pipeline, node).inputs["schema"].producer_component_id == "AnomalyGate"


def _train_steps(pipeline):
    args = _component(pipeline, "Trainer").exec_properties["train_args"]
    return json_format.Parse(args, trainer_pb2.TrainArgs()).num_steps


def test_train_steps_default_and_override(penguin, home, tmp_path):
    assert _train_steps(_pipeline(penguin, home, tmp_path)) == penguin.train_steps == 1000
    assert _train_steps(_pipeline(penguin, home, tmp_path, train_steps=7)) == 7


def test_tune_adds_tuner(penguin, home, tmp_path):
    pipeline = _pipeline(penguin, home, tmp_path, tune=True)
    ids = _ids(pipeline)
    assert ids.index("Transform") < ids.index("Tuner") < ids.index("Trainer")
    trainer = _component(pipeline, "Trainer")
    assert trainer.inputs["hyperparameters"].producer_component_id == "Tuner"


def test_warm_start_adds_resolver(penguin, home, tmp_path):
    pipeline = _pipeline(penguin, home, tmp_path, warm_start=True)
    assert "warm_start_model_resolver" in _ids(pipeline)
    trainer = _component(pipeline, "Trainer")
    assert trainer.inputs["base_model"].producer_component_id == "warm_start_model_resolver"
    assert "hyperparameters" not in trainer.inputs


def test_inferred_schema(penguin, home, tmp_path):
    pipeline = _pipeline(dataclasses.replace(penguin, schema=None), home, tmp_path)
    ids = _ids(pipeline)
    assert "SchemaGen" in ids
    assert "ImportSchemaGen" not in ids
    assert ids.index("StatisticsGen") < ids.index("SchemaGen") < ids.index("ExampleValidator")
    gate = _component(pipeline, "AnomalyGate")
    assert gate.exec_properties["schema_hint"] == "the inferred schema"


def test_import_schema_hint(penguin, home, tmp_path):
    gate = _component(_pipeline(penguin, home, tmp_path), "AnomalyGate")
    assert gate.exec_properties["schema_hint"] == str(penguin.schema_path)


def test_eval_config_classification(penguin):
    config = evaluation.eval_config(penguin)
    spec = config.model_specs[0]
    assert spec.signature_name == "serving_default"
    assert list(spec.preprocessing_function_names) == ["transform_features"]
    assert spec.label_key == "species_xf"
    assert spec.prediction_key == "probabilities"
    metric = config.metrics_specs[0].metrics[-1]
    assert metric.class_name == "SparseCategoricalAccuracy"
    assert metric.threshold.value_threshold.lower_bound.value == pytest.approx(0.97)
    assert not metric.threshold.value_threshold.HasField("upper_bound")
    assert metric.threshold.change_threshold.absolute.value < 0


def test_eval_config_regression(penguin):
    spec = dataclasses.replace(
        penguin, label="price", problem="regression", metric="rmse", threshold=12.5
    )
    config = evaluation.eval_config(spec)
    assert config.model_specs[0].prediction_key == "prediction"
    assert config.model_specs[0].label_key == "price_xf"
    metric = config.metrics_specs[0].metrics[-1]
    assert metric.class_name == "RootMeanSquaredError"
    assert metric.threshold.value_threshold.upper_bound.value == pytest.approx(12.5)
    assert not metric.threshold.value_threshold.HasField("lower_bound")
    assert metric.threshold.change_threshold.absolute.value > 0


def test_compile_ir_binds_run_id(penguin, home, tmp_path):
    ir = local.compile_ir(_pipeline(penguin, home, tmp_path), "rid-20240101")
    text = text_format.MessageToString(ir)
    assert 'string_value: "rid-20240101"' in text
    assert ir.pipeline_info.id == "penguin"
    assert "Pusher" in [node.pipeline_node.node_info.id for node in ir.nodes]


def test_create_pipeline_unknown_kind(penguin, home, tmp_path):
    spec = dataclasses.replace(penguin, kind="generative")
    with pytest.raises(TaskError, match="unknown pipeline kind 'generative'"):
        kinds.create_pipeline(spec, home, RunOptions(input_dir=tmp_path))


def _config(pipeline, node):
    return json.loads(_component(pipeline, node).exec_properties["custom_config"])


def test_trainer_custom_config(penguin, home, tmp_path):
    pipeline = _pipeline(penguin, home, tmp_path, hparams={"units": "8"}, tuner="bayesian")
    config = _config(pipeline, "Trainer")
    assert config["label"] == "species"
    assert config["problem"] == "classification"
    assert config["hparams"] == {"units": "8"}
    assert config["tuner"] == "bayesian"


def test_transform_config_ignores_training_options(penguin, home, tmp_path):
    plain = _config(_pipeline(penguin, home, tmp_path), "Transform")
    tuned_pipeline = _pipeline(penguin, home, tmp_path, hparams={"units": "8"}, tune=True)
    tuned = _config(tuned_pipeline, "Transform")
    assert plain == tuned
    assert plain["label"] == "species"
    assert plain["problem"] == "classification"


def test_declared_tfrecord_data_uses_import_example_gen(penguin, home, tmp_path):
    spec = dataclasses.replace(penguin, data_format="tfrecord")
    ids = _ids(_pipeline(spec, home, tmp_path))
    assert "ImportExampleGen" in ids and "CsvExampleGen" not in ids


def test_declared_csv_data_uses_csv_example_gen_whatever_the_folder_holds(penguin, home, tmp_path):
    (tmp_path / "span-1").mkdir()
    (tmp_path / "span-1" / "data.tfrecord.gz").write_bytes(b"")
    assert penguin.data_format == "csv"
    ids = _ids(_pipeline(penguin, home, tmp_path))
    assert "CsvExampleGen" in ids and "ImportExampleGen" not in ids
