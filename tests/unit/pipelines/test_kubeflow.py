"""Compiling every registered task for Kubeflow, through the API and the CLI (no cluster).

Each compiled package is read back the way KFP reads it: two YAML documents, the first a
`PipelineSpec`, the second a PlatformSpec whose executors are `KubernetesExecutorConfig`s, and
the whole file through `kfp.Client`'s own reader. Then the placement of every component is
checked against the contract of pipelines/placement.py (written out here as literals).

Compiling is cached per (task, placement, options) for the module: the first compile imports
TFX (a few seconds), the later ones take milliseconds.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from google.protobuf import json_format
from kfp.kubernetes import kubernetes_executor_config_pb2
from kfp.pipeline_spec import pipeline_spec_pb2

from pipelines import kinds, kubeflow, own_csv, placement, tasks
from pipelines.home import Home
from pipelines.options import RunOptions
from tests.e2e.helpers import cli_state, kfx
from trainers.spec import TaskSpec

ROOT = "gs://kfx-test-bucket/some/root"
IMAGE = "registry.example.com/kfx/components:test-1"
CSV_TASK = "shop"
# Every registered task: the built-in ones (whatever tasks.builtin() holds) and one CSV task.
TASKS = (*tasks.builtin(), CSV_TASK)
KINDS = {name: spec.kind for name, spec in tasks.builtin().items()} | {CSV_TASK: "supervised"}

NODEPOOL = "cloud.google.com/gke-nodepool"
CPU_SELECTOR = {NODEPOOL: "cpu-pool"}
GPU_SELECTOR = {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"}
TPU_SELECTOR = {
    "cloud.google.com/gke-tpu-accelerator": "tpu-v5-lite-podslice",
    "cloud.google.com/gke-tpu-topology": "2x2",
}
GPU_TOLERATION = ("nvidia.com/gpu", "Exists", "NoSchedule")
TPU_TOLERATION = ("google.com/tpu", "Exists", "NoSchedule")
RESOLVER_PREFIXES = ("baseline_model_resolver", "warm_start_model_resolver")  # vertex only
NOT_CONTAINERS = (*RESOLVER_PREFIXES, "source_model_importer")  # importers run no container
KFP_PIPELINE_NAME = r"[a-z0-9][a-z0-9-]{0,127}"  # what KubeflowV2DagRunner accepts
SOURCE_MODEL = f"{ROOT}/serving/SOURCE/1700000000"  # `--source-model` of tasks with a source_task

# Placement key → (CLI flags, training placement given to compile_pipeline).
PLACEMENTS = {
    "default": ((), None),
    "gpu": (("--accelerator", "nvidia-tesla-t4:2"), "nvidia-tesla-t4:2"),
    "tpu": (("--tpu", "v5e:4"), "v5e:4"),
}
# (task, placement key, extended). Extended: --warm-start (a second resolver), and --tune for
# supervised tasks (a Tuner); RL pipelines have no Tuner.
# A supervised task built on another task's model has no --warm-start: its Trainer's one
# base_model input holds the source model (pipelines/kinds/supervised.py).
NO_WARM_START = {t for t, s in tasks.builtin().items() if s.kind == "supervised" and s.source_task}
CASES = [
    (task, key, ext)
    for task in TASKS
    for key in PLACEMENTS
    for ext in (False, True)
    if not (ext and task in NO_WARM_START)
]
SUPERVISED_CASES = [case for case in CASES if KINDS[case[0]] == "supervised"]
CLI_CASES = [(task, "default", False) for task in TASKS] + [
    ("penguin", "gpu", True),
    ("penguin", "tpu", True),
    (CSV_TASK, "gpu", False),
]


def _layout(spec: TaskSpec, extended: bool, target: str = "kubeflow") -> dict[str, tuple]:
    """Component ids of a compiled task by expected placement: data, light, training."""
    layout = _kind_layout(spec, extended)
    if target == "kubeflow":  # push-folder lookups instead of resolvers: light containers
        warm = extended and not (spec.kind == "supervised" and spec.source_task)
        lookups = ("baseline_model_lookup", *(("warm_start_model_lookup",) if warm else ()))
        layout["light"] = (*layout["light"], *lookups)
    return layout


def _kind_layout(spec: TaskSpec, extended: bool) -> dict[str, tuple[str, ...]]:
    if spec.kind == "supervised":
        schema = "SchemaGen" if spec.schema is None else "ImportSchemaGen"
        # The data format is declared: TFRecord tasks import tf.Examples, also remotely.
        gen = "ImportExampleGen" if spec.data_format == "tfrecord" else "CsvExampleGen"
        return {
            "data": (gen, "StatisticsGen", "Transform", "Evaluator"),
            "light": (
                schema,
                "ExampleValidator",
                "DriftCheck",
                "AnomalyGate",
                "ModelGate",
                "ServingCheck",
                "Pusher",
                "Report",
            ),
            "training": ("Trainer", "Tuner") if extended else ("Trainer",),
        }
    if spec.kind == "rl":
        return {
            "data": ("PolicyEvaluator",),
            "light": ("Pusher", "Report"),
            "training": ("RLTrainer",),
        }
    if spec.kind == "offline_rl":
        return {
            "data": ("TrajectoryGen", "PolicyEvaluator"),
            "light": ("Pusher", "Report"),
            "training": ("Trainer",),
        }
    pytest.fail(f"task {spec.name!r}: no expected layout for kind {spec.kind!r}; add one here")


def _options(spec: TaskSpec, extended: bool) -> RunOptions:
    remote = kubeflow.RemoteHome(ROOT)
    tune = extended and spec.kind == "supervised"
    return RunOptions(
        input_dir=remote.data_dir(spec.name),
        tune=tune,
        warm_start=extended,
        source_model=SOURCE_MODEL if spec.source_task else None,
    )


def _case_id(case) -> str:
    task, key, extended = case
    return f"{task}-{key}" + ("-extended" if extended else "")


def _training(key: str) -> placement.Placement | None:
    text = PLACEMENTS[key][1]
    if text is None:
        return None
    return placement.parse_accelerator(text) if key == "gpu" else placement.parse_tpu(text)


# ---- fixtures ---------------------------------------------------------------------------------


def _write_csv(path: Path, seed: int = 7) -> Path:
    """A small user CSV: a string feature, a numeric feature, a numeric (regression) label."""
    rng = np.random.default_rng(seed)
    rows = 60
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], rows),
            "size cm": rng.uniform(1.0, 10.0, rows).round(2),
            "price": rng.uniform(5.0, 50.0, rows).round(3),
        }
    )
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A home with one bring-your-own-CSV task: a string feature and a numeric label."""
    root = tmp_path_factory.mktemp("kfx_home")
    source = _write_csv(tmp_path_factory.mktemp("src") / "shop.csv")
    spec = own_csv.register_csv(Home(root), source, "price", name=CSV_TASK)
    assert spec.schema is None and spec.problem == "regression"
    return root


@pytest.fixture(scope="module")
def specs(home) -> dict[str, TaskSpec]:
    """Every registered task of the home, by name."""
    found = {spec.name: spec for spec in tasks.all_tasks(Home(home))}
    assert set(found) == set(TASKS), found
    return found


@pytest.fixture(scope="module")
def compiled(specs, tmp_path_factory):
    """compiled(task, key, extended) → path of the package written from `compile_pipeline`."""
    out = tmp_path_factory.mktemp("api")
    cache: dict[tuple, Path] = {}

    def get(task: str, key: str, extended: bool, target: str = "kubeflow") -> Path:
        case = (task, key, extended, target)
        if case not in cache:
            spec = specs[task]
            opts = _options(spec, extended)
            documents = kubeflow.compile_pipeline(
                spec, opts, IMAGE, ROOT, _training(key), target=target
            )
            name = f"{_case_id(case[:3])}-{target}.yaml"
            cache[case] = kubeflow.write(documents, out / name)
        return cache[case]

    return get


@pytest.fixture(scope="module")
def cli_compiled(home, tmp_path_factory):
    """cli_compiled(task, key, extended) → (result, path) of `kfx compile TASK --image IMG -o`."""
    out = tmp_path_factory.mktemp("cli")
    cache: dict[tuple, tuple] = {}

    def get(task: str, key: str, extended: bool):
        case = (task, key, extended)
        if case not in cache:
            path = out / f"{_case_id(case)}.yaml"
            flags = [*PLACEMENTS[key][0]]
            if extended:
                flags += ["--warm-start", *(("--tune",) if KINDS[task] == "supervised" else ())]
            if task in tasks.builtin() and tasks.builtin()[task].source_task:
                flags += ["--source-model", SOURCE_MODEL]
            with pytest.MonkeyPatch.context() as patch, cli_state():
                patch.delenv("KFX_IMAGE", raising=False)
                patch.delenv("KFX_PIPELINE_ROOT", raising=False)
                result = kfx(
                    home,
                    "compile",
                    task,
                    "--image",
                    IMAGE,
                    "--pipeline-root",
                    ROOT,
                    "-o",
                    str(path),
                    *flags,
                )
            cache[case] = (result, path)
        return cache[case]

    return get


# ---- reading a package ------------------------------------------------------------------------


class Package:
    """A compiled package parsed into KFP's protos."""

    def __init__(self, path: Path):
        self.path = path
        self.documents = list(yaml.safe_load_all(path.read_text()))
        assert len(self.documents) == 2, f"{path}: {len(self.documents)} YAML documents"
        self.raw_spec, self.raw_platform = self.documents
        self.spec = json_format.ParseDict(
            self.raw_spec, pipeline_spec_pb2.PipelineSpec(), ignore_unknown_fields=False
        )
        assert set(self.raw_platform) == {"platforms"}
        assert set(self.raw_platform["platforms"]) == {"kubernetes"}
        kubernetes = self.raw_platform["platforms"]["kubernetes"]
        assert set(kubernetes) == {"deploymentSpec"}
        self.platform = {
            label: json_format.ParseDict(
                config,
                kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
                ignore_unknown_fields=False,
            )
            for label, config in kubernetes["deploymentSpec"]["executors"].items()
        }

    @functools.cached_property
    def deployment_config(self) -> pipeline_spec_pb2.PipelineDeploymentConfig:
        config = pipeline_spec_pb2.PipelineDeploymentConfig()
        json_format.ParseDict(self.raw_spec["deploymentSpec"], config, ignore_unknown_fields=False)
        return config

    def label_of(self, task_id: str) -> str:
        """Executor label of the DAG task `task_id`."""
        component = self.spec.root.dag.tasks[task_id].component_ref.name
        return self.spec.components[component].executor_label

    def container(self, task_id: str):
        executor = self.deployment_config.executors[self.label_of(task_id)]
        assert executor.WhichOneof("spec") == "container", task_id
        return executor.container

    def container_labels(self) -> set[str]:
        return {
            label
            for label, executor in self.deployment_config.executors.items()
            if executor.WhichOneof("spec") == "container"
        }


@functools.cache
def _package(path: Path) -> Package:
    """One parse per compiled file (read-only: tests share it)."""
    return Package(path)


@pytest.fixture(scope="module", autouse=True)
def _forget_packages():
    yield
    _package.cache_clear()


def _selector(config) -> dict[str, str]:
    return dict(config.node_selector.labels)


def _tolerations(config) -> list[tuple[str, str, str]]:
    return [(t.key, t.operator, t.effect) for t in config.tolerations]


def _component_ids(package: Package) -> set[str]:
    return set(package.spec.root.dag.tasks)


# ---- API compile: every task, every placement -------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_package_has_two_documents_that_parse_as_kfp_protos(compiled, specs, case):
    package = _package(compiled(*case))
    task, _, extended = case
    name = package.spec.pipeline_info.name
    assert re.fullmatch(KFP_PIPELINE_NAME, name), name
    assert name.replace("-", "_") == task.lower().replace("-", "_")
    assert package.spec.schema_version == "2.1.0"
    assert package.platform, "no KubernetesExecutorConfig at all"
    expected = {c for group in _layout(specs[task], extended).values() for c in group}
    containers = {i for i in _component_ids(package) if not i.startswith(NOT_CONTAINERS)}
    assert containers == expected


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_kfp_client_reader_accepts_the_package(compiled, case):
    from kfp.client import client

    path = compiled(*case)
    package = Package(path)
    doc = client._extract_pipeline_yaml(str(path))
    assert doc.pipeline_spec == package.spec
    executors = doc.platform_spec.platforms["kubernetes"].deployment_spec.executors
    assert set(executors) == set(package.platform)
    for label, config in executors.items():
        parsed = json_format.ParseDict(
            json_format.MessageToDict(config),
            kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
            ignore_unknown_fields=False,
        )
        assert parsed == package.platform[label], label


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_every_container_executor_has_a_kubernetes_config(compiled, case):
    package = _package(compiled(*case))
    assert set(package.platform) == package.container_labels()
    for label in package.platform:
        assert _selector(package.platform[label]), f"{label}: empty node selector"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_image_in_every_container_executor(compiled, case):
    package = _package(compiled(*case))
    executors = package.deployment_config.executors
    for label in package.container_labels():
        assert executors[label].container.image == IMAGE, label


def _check_cpu_pool(package: Package, components, limits: placement.Placement) -> None:
    for component in components:
        config = package.platform[package.label_of(component)]
        assert _selector(config) == CPU_SELECTOR, component
        assert _tolerations(config) == [], component
        resources = package.container(component).resources
        assert (resources.cpu_limit, resources.memory_limit) == (
            limits.cpu,
            limits.memory_gb,
        ), component
        assert not resources.HasField("accelerator"), component


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_data_components_on_the_cpu_pool_with_data_limits(compiled, specs, case):
    # CsvExampleGen included: TFX drops its platform_config, so kfx must add the limits itself.
    data = _layout(specs[case[0]], case[2])["data"]
    _check_cpu_pool(_package(compiled(*case)), data, placement.DATA)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_light_components_on_the_cpu_pool_with_light_limits(compiled, specs, case):
    light = _layout(specs[case[0]], case[2])["light"]
    _check_cpu_pool(_package(compiled(*case)), light, placement.LIGHT)


def _training_cases():
    for case in CASES:
        yield pytest.param(case, id=_case_id(case))


@pytest.mark.parametrize("case", _training_cases())
def test_training_components_follow_the_training_placement(compiled, specs, case):
    task, key, extended = case
    package = _package(compiled(*case))
    training = _layout(specs[task], extended)["training"]
    assert ("Tuner" in _component_ids(package)) is ("Tuner" in training)
    for component in training:
        config = package.platform[package.label_of(component)]
        resources = package.container(component).resources
        if key == "default":
            assert specs[task].placement == "cpu"
            profile = placement.PROFILES["cpu"]
            assert (profile.cpu, profile.memory_gb) == (7.0, 24.0)
            assert _selector(config) == CPU_SELECTOR, component
            assert _tolerations(config) == [], component
            assert not resources.HasField("accelerator"), component
            assert (resources.cpu_limit, resources.memory_limit) == (7.0, 24.0), component
        elif key == "gpu":
            assert _selector(config) == GPU_SELECTOR, component
            assert _tolerations(config) == [GPU_TOLERATION], component
            assert (resources.accelerator.type, resources.accelerator.count) == (
                "nvidia.com/gpu",
                2,
            ), component
            assert resources.cpu_limit == placement.gpu().cpu
            assert resources.memory_limit == placement.gpu().memory_gb
        else:
            assert _selector(config) == TPU_SELECTOR, component
            assert _tolerations(config) == [TPU_TOLERATION], component
            assert (resources.accelerator.type, resources.accelerator.count) == (
                "google.com/tpu",
                4,
            ), component
            assert resources.cpu_limit == placement.tpu().cpu
            assert resources.memory_limit == placement.tpu().memory_gb
    # Nothing else lands on an accelerator pool.
    for label, config in package.platform.items():
        if label not in {package.label_of(c) for c in training}:
            assert _selector(config) == CPU_SELECTOR, label
            assert _tolerations(config) == [], label


VERTEX_CASES = [case for case in CASES if case[1] == "default"]  # placement is target-blind


@pytest.mark.parametrize("case", VERTEX_CASES, ids=_case_id)
def test_vertex_resolvers_have_no_container_and_no_platform_entry(compiled, case):
    package = _package(compiled(*case, target="vertex"))
    executors = package.deployment_config.executors
    resolvers = [i for i in _component_ids(package) if i.startswith(RESOLVER_PREFIXES)]
    expected = 4 if case[2] else 2  # two resolver tasks per LatestBlessedModelStrategy
    assert len(resolvers) == expected, resolvers
    for task_id in resolvers:
        label = package.label_of(task_id)
        assert executors[label].WhichOneof("spec") in ("resolver", "importer"), task_id
        assert label not in package.platform, task_id
    non_container = {
        label
        for label, executor in executors.items()
        if executor.WhichOneof("spec") in ("resolver", "importer")
    }
    assert non_container.isdisjoint(package.platform)


@pytest.mark.parametrize("task", ["penguin", "cartpole_dqn", "cartpole_dt"])
def test_the_report_is_an_html_artifact_the_kfp_ui_renders(compiled, task):
    """The KFP UI renders MLMD type `system.HTML` (kfp.dsl.HTML), named by the schema title."""
    import kfp.dsl

    package = _package(compiled(task, "default", False))
    component = package.spec.components[package.spec.root.dag.tasks["Report"].component_ref.name]
    schema = component.output_definitions.artifacts["report"].artifact_type.instance_schema
    assert yaml.safe_load(schema)["title"] == kfp.dsl.HTML.schema_title == "system.HTML"
    wanted = {"pushed_model", "blessing", "evaluation", "model_run"}
    assert wanted <= set(component.input_definitions.artifacts)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_pipeline_root_is_under_the_given_root(compiled, case):
    package = _package(compiled(*case))
    assert package.spec.default_pipeline_root.startswith(ROOT + "/")
    assert package.spec.default_pipeline_root == f"{ROOT}/pipelines/{case[0]}"


@pytest.mark.parametrize("case", SUPERVISED_CASES, ids=_case_id)
def test_example_gen_reads_the_remote_data_spans(compiled, specs, case):
    package = _package(compiled(*case))
    gen = _layout(specs[case[0]], False)["data"][0]
    parameters = package.spec.root.dag.tasks[gen].inputs.parameters
    input_base = parameters["input_base"].runtime_value.constant.string_value
    assert input_base == f"{ROOT}/data/{case[0]}"
    config = json.loads(parameters["input_config"].runtime_value.constant.string_value)
    patterns = [split["pattern"] for split in config["splits"]]
    assert patterns and all(p.startswith("span-{SPAN}/") for p in patterns), patterns


@pytest.mark.parametrize("case", VERTEX_CASES, ids=_case_id)
def test_vertex_baseline_resolver_is_latest_blessed_model(compiled, case):
    package = _package(compiled(*case, target="vertex"))
    executors = package.deployment_config.executors
    blessing = executors[package.label_of("baseline_model_resolver-model-blessing-resolver")]
    query = blessing.resolver.output_artifact_queries["model_blessing"].filter
    assert 'schema_title="tfx.ModelBlessing"' in query
    assert "metadata.blessed.number_value=1" in query
    model = executors[package.label_of("baseline_model_resolver-model-resolver")]
    query = model.resolver.output_artifact_queries["model"].filter
    assert 'schema_title="tfx.Model"' in query and "current_model_id" in query
    resolver_task = package.spec.root.dag.tasks["baseline_model_resolver-model-resolver"]
    upstream = resolver_task.inputs.artifacts["input"].task_output_artifact
    assert upstream.producer_task == "baseline_model_resolver-model-blessing-resolver"
    evaluator = "Evaluator" if KINDS[case[0]] == "supervised" else "PolicyEvaluator"
    baseline = package.spec.root.dag.tasks[evaluator].inputs.artifacts["baseline_model"]
    assert baseline.task_output_artifact.producer_task == "baseline_model_resolver-model-resolver"


# ---- CLI compile ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CLI_CASES, ids=_case_id)
def test_cli_compile_writes_the_same_package(cli_compiled, compiled, case):
    result, path = cli_compiled(*case)
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == str(path)
    hint = f"upload the data to {ROOT}/data/{case[0]}/span-N/"
    if tasks.builtin().get(case[0]) and tasks.builtin()[case[0]].schema_path:
        hint += f" and the schema to {ROOT}/schemas/{case[0]}/schema.pbtxt"
    needs_data = KINDS[case[0]] == "supervised"  # RL tasks make their own experience
    assert (hint in result.err) == needs_data
    package = Package(path)
    assert package.documents == _package(compiled(*case)).documents


@pytest.mark.parametrize("case", CLI_CASES, ids=_case_id)
def test_cli_package_passes_the_kfp_reader(cli_compiled, case):
    from kfp.client import client

    _, path = cli_compiled(*case)
    doc = client._extract_pipeline_yaml(str(path))
    package = Package(path)
    assert doc.pipeline_spec == package.spec
    executors = doc.platform_spec.platforms["kubernetes"].deployment_spec.executors
    trainer = package.label_of("RLTrainer" if KINDS[case[0]] == "rl" else "Trainer")
    config = json_format.ParseDict(
        json_format.MessageToDict(executors[trainer]),
        kubernetes_executor_config_pb2.KubernetesExecutorConfig(),
    )
    expected = {"default": CPU_SELECTOR, "gpu": GPU_SELECTOR, "tpu": TPU_SELECTOR}[case[1]]
    assert _selector(config) == expected


def test_cli_compile_csv_task_named_after_a_file_with_a_dash(tmp_path, cli_env):
    """register_csv names house-prices.csv 'house_prices'; KFP names take no '_' (was a crash)."""
    home = tmp_path / "home"
    spec = own_csv.register_csv(Home(home), _write_csv(tmp_path / "house-prices.csv"), "price")
    assert spec.name == "house_prices"
    out = tmp_path / "house.yaml"
    result = kfx(
        home, "compile", spec.name, "--image", IMAGE, "-o", str(out), "--pipeline-root", ROOT
    )
    assert result.code == 0, result.err
    package = Package(out)
    assert package.spec.pipeline_info.name == "house-prices"
    assert package.spec.default_pipeline_root == f"{ROOT}/pipelines/house_prices"
    parameters = package.spec.root.dag.tasks["CsvExampleGen"].inputs.parameters
    assert parameters["input_base"].runtime_value.constant.string_value == (
        f"{ROOT}/data/house_prices"
    )
    from kfp.client import client

    assert client._extract_pipeline_yaml(str(out)).pipeline_spec == package.spec


@pytest.fixture
def cli_env(monkeypatch):
    monkeypatch.delenv("KFX_IMAGE", raising=False)
    monkeypatch.delenv("KFX_PIPELINE_ROOT", raising=False)
    with cli_state():
        yield monkeypatch


def test_cli_compile_defaults(tmp_path, cli_env):
    cli_env.setenv("KFX_IMAGE", "env.example/kfx:env")
    result = kfx(tmp_path, "compile", "penguin")
    assert result.code == 0, result.err
    path = tmp_path / "compiled" / "penguin.yaml"
    assert result.out.strip().splitlines()[-1] == str(path)
    package = Package(path)
    assert package.spec.default_pipeline_root == (
        f"{kubeflow.DEFAULT_PIPELINE_ROOT}/pipelines/penguin"
    )
    assert package.container("Trainer").image == "env.example/kfx:env"


def test_cli_compile_reads_the_pipeline_root_from_the_environment(tmp_path, cli_env):
    cli_env.setenv("KFX_PIPELINE_ROOT", "gs://env-bucket/r")
    out = tmp_path / "p.yaml"
    result = kfx(tmp_path, "compile", "penguin", "--image", IMAGE, "-o", str(out))
    assert result.code == 0, result.err
    assert Package(out).spec.default_pipeline_root == "gs://env-bucket/r/pipelines/penguin"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "--image"),
        (("--image", IMAGE, "--accelerator", "bad:x"), "--accelerator"),
        (("--image", IMAGE, "--accelerator", "a:1", "--tpu", "v5e:4"), "not both"),
        (("--image", IMAGE, "--tpu", "v9:4"), "version must be one of"),
        (("--image", IMAGE, "--tpu", "v5e:3"), "chips must be one of"),
        (("--image", IMAGE, "--accelerator", "nvidia-tesla-t4:0"), "--accelerator"),
    ],
    ids=[
        "no-image",
        "bad-accelerator",
        "accelerator-and-tpu",
        "bad-tpu-version",
        "bad-chips",
        "zero-gpus",
    ],
)
def test_cli_compile_usage_errors(tmp_path, cli_env, flags, message):
    out = tmp_path / "out.yaml"
    result = kfx(tmp_path, "compile", "penguin", "-o", str(out), *flags)
    assert result.code == 2
    assert message in result.err
    assert result.err.startswith("kfx: ")
    assert not out.exists()
    assert not (tmp_path / "compiled").exists()


def test_cli_compile_unknown_task(tmp_path, cli_env):
    result = kfx(tmp_path, "compile", "unicorn", "--image", IMAGE)
    assert result.code == 2
    assert "unknown task 'unicorn'" in result.err


SOURCE_CASES = [(t, "default", False) for t, s in tasks.builtin().items() if s.source_task]


@pytest.mark.parametrize("case", SOURCE_CASES, ids=_case_id)
def test_source_model_is_imported_from_the_given_uri(compiled, case):
    package = _package(compiled(*case))
    importer = package.deployment_config.executors[package.label_of("source_model_importer")]
    assert importer.WhichOneof("spec") == "importer"
    assert importer.importer.artifact_uri.constant.string_value == SOURCE_MODEL
    assert "title: tfx.Model" in importer.importer.type_schema.instance_schema


@pytest.mark.parametrize("task", sorted(NO_WARM_START))
def test_supervised_source_task_trains_from_the_imported_model(compiled, task):
    package = _package(compiled(task, "default", False))
    inputs = package.spec.root.dag.tasks["Trainer"].inputs.artifacts
    assert inputs["base_model"].task_output_artifact.producer_task == "source_model_importer"


@pytest.mark.parametrize("task", sorted(NO_WARM_START))
def test_cli_compile_of_a_supervised_source_task_refuses_warm_start(tmp_path, cli_env, task):
    out = tmp_path / "o.yaml"
    flags = ("--image", IMAGE, "--source-model", SOURCE_MODEL, "--warm-start", "-o", str(out))
    result = kfx(tmp_path, "compile", task, *flags)
    assert result.code == 2
    assert "--warm-start" in result.err and tasks.builtin()[task].source_task in result.err
    assert not out.exists()


@pytest.mark.parametrize("task", [case[0] for case in SOURCE_CASES])
def test_cli_compile_for_vertex_of_a_source_task_needs_the_source_model(tmp_path, cli_env, task):
    """Vertex imports the source model from a URI; `--target kubeflow` looks it up instead."""
    flags = ("--target", "vertex", "--image", IMAGE, "-o", str(tmp_path / "o.yaml"))
    result = kfx(tmp_path, "compile", task, *flags)
    assert result.code == 2
    assert "--source-model" in result.err and tasks.builtin()[task].source_task in result.err
    assert not (tmp_path / "o.yaml").exists()


# ---- pipelines/placement.py -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "accelerator", "count"),
    [
        ("nvidia-tesla-t4:2", "nvidia-tesla-t4", 2),
        ("nvidia-tesla-t4", "nvidia-tesla-t4", 1),
        (" nvidia-l4:1 ", "nvidia-l4", 1),
        ("nvidia-tesla-a100:8", "nvidia-tesla-a100", 8),
    ],
)
def test_parse_accelerator(text, accelerator, count):
    place = placement.parse_accelerator(text)
    assert dict(place.node_selector) == {"cloud.google.com/gke-accelerator": accelerator}
    assert place.tolerations == (placement.Toleration("nvidia.com/gpu"),)
    assert (place.accelerator, place.accelerator_count) == ("nvidia.com/gpu", count)
    assert place == placement.gpu(accelerator, count)


@pytest.mark.parametrize("text", ["bad:x", "", ":1", "T4:1", "nvidia-tesla-t4:1:2", "a b:1"])
def test_parse_accelerator_rejects(text):
    with pytest.raises(ValueError, match="--accelerator"):
        placement.parse_accelerator(text)


def test_parse_accelerator_rejects_zero_gpus():
    """A GPU placement without a GPU used to be accepted (count 0)."""
    with pytest.raises(ValueError, match="--accelerator 'nvidia-tesla-t4:0'"):
        placement.parse_accelerator("nvidia-tesla-t4:0")


@pytest.mark.parametrize(
    ("text", "selector", "chips"),
    [
        ("v5e:4", TPU_SELECTOR, 4),
        ("v5e", TPU_SELECTOR, 4),
        (
            "v5p:8",
            {
                "cloud.google.com/gke-tpu-accelerator": "tpu-v5p-slice",
                "cloud.google.com/gke-tpu-topology": "2x4",
            },
            8,
        ),
        (
            " v4:1 ",
            {
                "cloud.google.com/gke-tpu-accelerator": "tpu-v4-podslice",
                "cloud.google.com/gke-tpu-topology": "1x1",
            },
            1,
        ),
    ],
)
def test_parse_tpu(text, selector, chips):
    place = placement.parse_tpu(text)
    assert dict(place.node_selector) == selector
    assert place.tolerations == (placement.Toleration("google.com/tpu"),)
    assert (place.accelerator, place.accelerator_count) == ("google.com/tpu", chips)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("v9:4", "version must be one of"),
        ("v5e:3", "chips must be one of"),
        ("v5e:0", "chips must be one of"),
        ("5e:4", "expected VERSION"),
        ("v5e:x", "expected VERSION"),
        ("", "expected VERSION"),
    ],
)
def test_parse_tpu_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        placement.parse_tpu(text)


def test_toleration_defaults():
    toleration = placement.Toleration("nvidia.com/gpu")
    assert (toleration.operator, toleration.effect) == ("Exists", "NoSchedule")


@pytest.mark.parametrize("component", ["Trainer", "Tuner"])
@pytest.mark.parametrize("profile", sorted(placement.PROFILES))
def test_for_component_training(component, profile):
    training = placement.PROFILES[profile]
    nodes = kinds.get("supervised").training_nodes
    assert placement.for_component(component, training, nodes) is training


@pytest.mark.parametrize(
    "component",
    ["ImportSchemaGen", "SchemaGen", "ExampleValidator", "AnomalyGate", "Pusher", "Report"],
)
def test_for_component_light(component):
    gpu = placement.PROFILES["gpu"]
    assert placement.for_component(component, gpu, ("Trainer",)) == placement.LIGHT


@pytest.mark.parametrize(
    "component",
    ["CsvExampleGen", "ImportExampleGen", "StatisticsGen", "Transform", "Evaluator", "Other"],
)
def test_for_component_data(component):
    tpu = placement.PROFILES["tpu"]
    assert placement.for_component(component, tpu, ("Trainer",)) == placement.DATA


def test_data_and_light_placements():
    for place, limits in ((placement.DATA, (4.0, 16.0)), (placement.LIGHT, (1.0, 4.0))):
        assert (place.cpu, place.memory_gb) == limits
        assert dict(place.node_selector) == CPU_SELECTOR
        assert place.tolerations == () and place.accelerator is None


def test_training_placement():
    assert placement.training_placement("cpu") == placement.PROFILES["cpu"]
    assert placement.training_placement("gpu") == placement.gpu("nvidia-tesla-t4", 1)
    assert placement.training_placement("tpu") == placement.tpu("v5e", 4)
    gpu = placement.training_placement("cpu", accelerator="nvidia-tesla-t4:2")
    assert gpu == placement.gpu("nvidia-tesla-t4", 2)
    assert placement.training_placement("gpu", tpu_spec="v5p:8") == placement.tpu("v5p", 8)
    with pytest.raises(ValueError, match="not both"):
        placement.training_placement("cpu", "nvidia-tesla-t4:1", "v5e:4")
    with pytest.raises(ValueError, match="unknown placement profile 'quantum'"):
        placement.training_placement("quantum")
