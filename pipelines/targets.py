"""Where a pipeline runs: the choices that differ between orchestrators, one object each.

- `local`: LocalDagRunner/BeamDagRunner with sqlite MLMD. Resolvers query MLMD (kfx's own
  strategies, keeping lineage and cached re-runs); TFX's ExampleGen driver resolves the span.
- `kubeflow`: open-source Kubeflow Pipelines v2. Its backend rejects resolver executors
  (kubeflow/pipelines `backend/src/v2/compiler/argocompiler/dag.go`: "resolver executors not
  implemented") and never runs the container `lifecycle` hook in which KubeflowV2DagRunner
  puts ExampleGen's span driver. So the span is resolved inside the executor
  (components/span_example_gen.py) and models are looked up in the push folders
  (components/pushed_model.py), which only ever hold gate-blessed models.
- `vertex`: Vertex AI Pipelines, which runs both: TFX's own resolver strategies (the only
  ones KubeflowV2DagRunner compiles) and the driver hook.
"""

from __future__ import annotations

from pipelines import ids
from pipelines.options import RunOptions
from trainers.spec import TFRECORD, TaskSpec


class Target:
    """Base: how one orchestrator gets the span, the baseline, warm-start and source models."""

    name = ""
    uncached: tuple[str, ...] = ()
    """Component ids whose outputs depend on files outside the pipeline (never cached)."""
    gate_quarantines: bool = True
    """Whether the AnomalyGate moves a rejected span aside itself (no kfx process is there)."""

    def example_gen(self, spec: TaskSpec, input_base: str, data, split):
        """The component reading the newest span under `input_base`."""
        from tfx import components as tfc

        gen = tfc.ImportExampleGen if spec.data_format == TFRECORD else tfc.CsvExampleGen
        return gen(input_base=input_base, input_config=data, output_config=split).with_id(
            example_gen_id(spec)
        )

    def schema_file(self, spec: TaskSpec, home) -> str:
        """Where ImportSchemaGen reads the curated schema: beside the data, never a host path."""
        return home.schema_file(spec.name)

    def baseline(self, spec: TaskSpec, home, opts: RunOptions, trainer):
        """The node giving the model the candidate is compared with (its `model` output)."""
        raise NotImplementedError

    def warm_start(self, spec: TaskSpec, home, opts: RunOptions):
        """The node giving the latest blessed model (its `model` output)."""
        raise NotImplementedError

    def source_model(self, spec: TaskSpec, home, opts: RunOptions):
        """(node, Model channel) of the newest pushed model of `spec.source_task`."""
        raise NotImplementedError


def example_gen_id(spec: TaskSpec) -> str:
    """ExampleGen's component id: it names the data format."""
    return ids.IMPORT_EXAMPLE_GEN if spec.data_format == TFRECORD else ids.CSV_EXAMPLE_GEN


def _model_channels() -> dict:
    from tfx.types import Channel
    from tfx.types.standard_artifacts import Model, ModelBlessing

    return {"model": Channel(type=Model), "model_blessing": Channel(type=ModelBlessing)}


def _resolver(strategy, node_id: str):
    from tfx.dsl.components.common.resolver import Resolver

    return Resolver(strategy_class=strategy, **_model_channels()).with_id(node_id)


def _importer(spec: TaskSpec, opts: RunOptions):
    from tfx.dsl.components.common.importer import Importer
    from tfx.types.standard_artifacts import Model

    node = Importer(source_uri=opts.source_model, artifact_type=Model).with_id(ids.SOURCE_IMPORTER)
    return node, node.outputs["result"]


class Local(Target):
    """LocalDagRunner / BeamDagRunner over the home's MLMD."""

    name = "local"
    gate_quarantines = False  # `kfx run` moves it, naming the run (pipelines/api.py)

    def schema_file(self, spec, home):
        """The schema file in the repository (or, for a CSV task, the home)."""
        return str(spec.schema_path)

    def baseline(self, spec, home, opts, trainer):
        """The newest gate-blessed model older than the candidate (cache-friendly)."""
        from components.baseline_resolver import BaselineModelStrategy

        node = _resolver(BaselineModelStrategy, ids.BASELINE_RESOLVER)
        node.add_upstream_node(trainer)  # resolve after the candidate exists
        return node

    def warm_start(self, spec, home, opts):
        """The newest gate-blessed model."""
        from components.baseline_resolver import LatestGatedModelStrategy

        return _resolver(LatestGatedModelStrategy, ids.WARM_START_RESOLVER)

    def source_model(self, spec, home, opts):
        """The source task's newest pushed model, found in MLMD (lineage kept)."""
        from tfx.dsl.components.common.resolver import Resolver
        from tfx.types import Channel
        from tfx.types.standard_artifacts import Model

        from components.source_model import PushedModelStrategy
        from pipelines.wiring import pipeline_name_of

        node = Resolver(
            strategy_class=PushedModelStrategy,
            config={"pipeline_name": pipeline_name_of(spec.source_task, opts)},
            model=Channel(type=Model),
        ).with_id(ids.SOURCE_RESOLVER)
        return node, node.outputs["model"]


class Vertex(Target):
    """Vertex AI Pipelines: TFX's own resolver strategies and ExampleGen driver hook."""

    name = "vertex"

    def baseline(self, spec, home, opts, trainer):
        """TFX's latest blessed model (KubeflowV2 compiles only TFX's own strategies)."""
        from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
            LatestBlessedModelStrategy,
        )

        # A repeated run re-evaluates its cached model against itself: TFX's strategy
        # cannot exclude the candidate.
        node = _resolver(LatestBlessedModelStrategy, ids.BASELINE_RESOLVER)
        node.add_upstream_node(trainer)
        return node

    def warm_start(self, spec, home, opts):
        """TFX's latest blessed model."""
        from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
            LatestBlessedModelStrategy,
        )

        return _resolver(LatestBlessedModelStrategy, ids.WARM_START_RESOLVER)

    def source_model(self, spec, home, opts):
        """An Importer of `--source-model URI`.

        Raises:
            ValueError: no `opts.source_model`.
        """
        if not opts.source_model:
            raise ValueError(
                f"task {spec.name!r} builds on {spec.source_task!r}'s model: pass its pushed "
                "model directory with --source-model URI"
            )
        return _importer(spec, opts)


class Kubeflow(Target):
    """Open-source Kubeflow Pipelines v2: containers, importers and plain DAG edges only."""

    name = "kubeflow"
    uncached = (ids.CSV_EXAMPLE_GEN, ids.IMPORT_EXAMPLE_GEN, *ids.LOOKUPS)

    def example_gen(self, spec, input_base, data, split):
        """An ExampleGen whose executor resolves the span (no driver hook)."""
        from components.span_example_gen import CsvSpanExampleGen, ImportSpanExampleGen

        gen = ImportSpanExampleGen if spec.data_format == TFRECORD else CsvSpanExampleGen
        return gen(input_base=input_base, input_config=data, output_config=split).with_id(
            example_gen_id(spec)
        )

    def baseline(self, spec, home, opts, trainer):
        """The newest model in the task's push folder, looked up after training."""
        node = _lookup(home.serving_dir(spec.name), ids.BASELINE_LOOKUP)
        node.add_upstream_node(trainer)  # the Pusher of this run comes later still
        return node

    def warm_start(self, spec, home, opts):
        """The newest model in the task's push folder."""
        return _lookup(home.serving_dir(spec.name), ids.WARM_START_LOOKUP)

    def source_model(self, spec, home, opts):
        """`--source-model URI` through an Importer, else the source task's push folder."""
        if opts.source_model:
            return _importer(spec, opts)
        node = _lookup(home.serving_dir(spec.source_task), ids.SOURCE_LOOKUP, required=True)
        return node, node.outputs["model"]


def _lookup(serving_dir, node_id: str, required: bool = False):
    from components.pushed_model import LatestPushedModel

    return LatestPushedModel(serving_dir=str(serving_dir), required=int(required)).with_id(node_id)


TARGETS = {t.name: t for t in (Local(), Kubeflow(), Vertex())}
COMPILED = ("kubeflow", "vertex")  # what `kfx compile --target` accepts


def of(opts: RunOptions) -> Target:
    """The target `opts` asks for."""
    return TARGETS[opts.target]
