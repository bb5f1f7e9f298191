"""ExampleGens that find the newest span themselves, for orchestrators that run no TFX driver.

TFX's file-based ExampleGen resolves `{SPAN}` in its driver. KubeflowV2DagRunner compiles that
driver into a container `lifecycle.preCacheCheck` hook, which only Vertex AI Pipelines runs;
the open-source Kubeflow Pipelines backend never reads it, so the executor gets the raw
`span-{SPAN}` pattern and finds no files. These components carry the same spec and executor as
CsvExampleGen and ImportExampleGen, but their executor resolves the span (with TFX's own input
processor) before reading, and records span, version and fingerprint on the Examples as the
driver would. They are not FileBasedExampleGens, so the compiler adds no hook.
"""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.example_gen import driver, input_processor, utils
from tfx.components.example_gen.csv_example_gen import executor as csv_executor
from tfx.components.example_gen.import_example_gen import executor as import_executor
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.proto import example_gen_pb2, range_config_pb2
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import proto_utils

_SPEC = standard_component_specs


def resolve_span(exec_properties: dict[str, Any]) -> dict[str, Any]:
    """`exec_properties` with the newest span's patterns, span, version and fingerprint.

    Raises:
        ValueError: no folder matches the patterns (TFX's own message names them).
    """
    resolved = dict(exec_properties)
    input_config = example_gen_pb2.Input()
    proto_utils.json_to_proto(exec_properties[_SPEC.INPUT_CONFIG_KEY], input_config)
    range_config = None
    if exec_properties.get(_SPEC.RANGE_CONFIG_KEY):
        range_config = range_config_pb2.RangeConfig()
        proto_utils.json_to_proto(exec_properties[_SPEC.RANGE_CONFIG_KEY], range_config)
    processor = input_processor.FileBasedInputProcessor(
        exec_properties[_SPEC.INPUT_BASE_KEY], input_config.splits, range_config
    )
    span, version = processor.resolve_span_and_version()
    resolved[utils.SPAN_PROPERTY_NAME] = span
    resolved[utils.VERSION_PROPERTY_NAME] = version
    resolved[utils.FINGERPRINT_PROPERTY_NAME] = processor.get_input_fingerprint(span, version)
    for split in input_config.splits:
        split.pattern = processor.get_pattern_for_span_version(split.pattern, span, version)
    resolved[_SPEC.INPUT_CONFIG_KEY] = proto_utils.proto_to_json(input_config)
    return resolved


class _ResolvesSpan:
    """Executor mix-in: resolve the span, mark the Examples, then read as TFX does."""

    def Do(self, input_dict, output_dict, exec_properties):  # noqa: N802 (TFX's name)
        """Runs the parent executor on the newest span."""
        resolved = resolve_span(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[_SPEC.EXAMPLES_KEY])
        driver.update_output_artifact(resolved, examples.mlmd_artifact)
        return super().Do(input_dict, output_dict, resolved)


class CsvSpanExecutor(_ResolvesSpan, csv_executor.Executor):
    """CsvExampleGen's executor on the newest span."""


class ImportSpanExecutor(_ResolvesSpan, import_executor.Executor):
    """ImportExampleGen's executor (tf.Example TFRecords) on the newest span."""


class _SpanExampleGen(base_beam_component.BaseBeamComponent):
    """FileBasedExampleGen's spec without its driver; subclasses pick the executor."""

    SPEC_CLASS = _SPEC.FileBasedExampleGenSpec

    def __init__(
        self,
        input_base: str,
        input_config: example_gen_pb2.Input,
        output_config: example_gen_pb2.Output | None = None,
    ):
        """Reads the newest `span-N` under `input_base` as `input_config` names it."""
        spec = _SPEC.FileBasedExampleGenSpec(
            input_base=input_base,
            input_config=input_config,
            output_config=output_config or utils.make_default_output_config(input_config),
            custom_config=None,
            range_config=None,
            output_data_format=example_gen_pb2.FORMAT_TF_EXAMPLE,
            output_file_format=example_gen_pb2.FORMAT_TFRECORDS_GZIP,
            examples=types.Channel(type=standard_artifacts.Examples),
        )
        super().__init__(spec=spec)


class CsvSpanExampleGen(_SpanExampleGen):
    """CsvExampleGen that resolves `{SPAN}` in its executor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(CsvSpanExecutor)


class ImportSpanExampleGen(_SpanExampleGen):
    """ImportExampleGen that resolves `{SPAN}` in its executor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ImportSpanExecutor)
