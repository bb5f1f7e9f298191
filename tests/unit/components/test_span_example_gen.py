"""ExampleGens that resolve `{SPAN}` in the executor (no driver hook on open-source Kubeflow)."""

import json

import tensorflow as tf
from tfx.components.example_gen import utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import proto_utils

from components import span_example_gen


def _input_config(pattern: str = "span-{SPAN}/*.csv") -> str:
    config = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name="data", pattern=pattern)]
    )
    return proto_utils.proto_to_json(config)


def _spans(root, *numbers):
    for number in numbers:
        folder = root / f"span-{number}"
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text(f"x,y\n{number},1\n{number},0\n")


def test_resolve_span_picks_the_newest_span_and_fills_the_pattern(tmp_path):
    _spans(tmp_path, 1, 2, 10)
    exec_properties = {
        standard_component_specs.INPUT_BASE_KEY: str(tmp_path),
        standard_component_specs.INPUT_CONFIG_KEY: _input_config(),
    }
    resolved = span_example_gen.resolve_span(exec_properties)
    assert resolved[utils.SPAN_PROPERTY_NAME] == 10
    assert resolved[utils.VERSION_PROPERTY_NAME] is None
    assert "total_bytes" in resolved[utils.FINGERPRINT_PROPERTY_NAME]
    split = json.loads(resolved[standard_component_specs.INPUT_CONFIG_KEY])["splits"][0]
    assert split["pattern"] == "span-10/*.csv"
    assert "{SPAN}" in exec_properties[standard_component_specs.INPUT_CONFIG_KEY]  # a copy


def test_the_executor_reads_the_newest_span_and_marks_the_examples(tmp_path):
    _spans(tmp_path / "data", 1, 2)
    examples = standard_artifacts.Examples()
    examples.uri = str(tmp_path / "examples")
    output = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=1)]
        )
    )
    exec_properties = {
        standard_component_specs.INPUT_BASE_KEY: str(tmp_path / "data"),
        standard_component_specs.INPUT_CONFIG_KEY: _input_config(),
        standard_component_specs.OUTPUT_CONFIG_KEY: proto_utils.proto_to_json(output),
        standard_component_specs.OUTPUT_DATA_FORMAT_KEY: example_gen_pb2.FORMAT_TF_EXAMPLE,
        standard_component_specs.OUTPUT_FILE_FORMAT_KEY: example_gen_pb2.FORMAT_TFRECORDS_GZIP,
    }
    span_example_gen.CsvSpanExecutor().Do({}, {"examples": [examples]}, exec_properties)
    assert examples.get_int_custom_property("span") == 2
    split = artifact_utils.get_split_uri([examples], "train")
    files = tf.io.gfile.glob(f"{split}/*")
    records = list(tf.data.TFRecordDataset(files, compression_type="GZIP"))
    xs = [
        tf.train.Example.FromString(r.numpy()).features.feature["x"].int64_list.value[0]
        for r in records
    ]
    assert xs == [2, 2]  # span 2's rows, not span 1's


def test_the_components_are_not_file_based_example_gens():
    """KubeflowV2's step builder adds the driver hook to FileBasedExampleGen subclasses only."""
    from tfx.components.example_gen.component import FileBasedExampleGen

    for gen in (span_example_gen.CsvSpanExampleGen, span_example_gen.ImportSpanExampleGen):
        node = gen(
            input_base="/data",
            input_config=example_gen_pb2.Input(
                splits=[example_gen_pb2.Input.Split(name="data", pattern="span-{SPAN}/*")]
            ),
        )
        assert not isinstance(node, FileBasedExampleGen)
        assert node.outputs["examples"].type == standard_artifacts.Examples
