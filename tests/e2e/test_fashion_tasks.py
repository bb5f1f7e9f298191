"""Fashion-MNIST end to end: the real IDX files, given splits, and `kfx predict` on 784 pixels.

(Also a Vision Transformer through the same pipeline, on the same few images.)

fashion_mlp on the first 200 images of each split (`--set limit=200`), tiny steps: behaviour,
not quality (make bench runs the full data at default settings).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx, states, supervised_components
from trainers.fashion_mnist import data

pytestmark = pytest.mark.e2e

TASK, LIMIT = "fashion_mlp", 200
TINY = ("--train-steps", "30", "--threshold", "0", "--json")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("fashion_home"))


@pytest.fixture(scope="module")
def run(home):
    result = kfx(home.root, "run", TASK, *TINY, "--set", f"limit={LIMIT}")
    assert result.code == 0, result.err
    return result.json


def _split(home: Home, split: str) -> list[tuple[np.ndarray, int]]:
    return _split_of(home, TASK, split)


def _split_of(home: Home, task: str, split: str) -> list[tuple[np.ndarray, int]]:
    root = home.pipeline_root(task) / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return [
        row for path in sorted((newest / f"Split-{split}").glob("*.gz")) for row in data.read(path)
    ]


def test_runs_blesses_and_pushes_a_28x28_int_model(home, run):
    assert run["blessed"] is True
    components = supervised_components("ImportExampleGen")
    assert states(home.root, TASK, run["run_id"]) == {c: "complete" for c in components}
    pushed = home.serving_dir(TASK) / run["pushed_version"]
    manifest = json.loads((pushed / "assets.extra" / "kfx.json").read_text())
    assert manifest["features"] == {"pixels": "INT"} and manifest["shapes"] == {"pixels": [28, 28]}


def test_the_given_splits_are_the_official_ones(home, run):
    test = _split(home, "test")
    assert [len(_split(home, s)) for s in ("train", "eval")] == [LIMIT, LIMIT]
    images, labels = data.load("test")
    np.testing.assert_array_equal(test[7][0], images[7].ravel())
    assert [label for _, label in test[:20]] == labels[:20].tolist()


def test_predict_on_the_test_images_agrees_with_the_evaluator(home, run, tmp_path):
    rows = pd.DataFrame(
        {"pixels": " ".join(map(str, p)), "label": str(label)} for p, label in _split(home, "test")
    )
    source, out = tmp_path / "test.csv", tmp_path / "pred.csv"
    rows.to_csv(source, index=False)
    result = kfx(home.root, "predict", TASK, "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    predicted = pd.read_csv(out, dtype={"label": str, "prediction": str})
    assert len(predicted) == LIMIT
    accuracy = float(np.mean(predicted["prediction"] == predicted["label"]))
    assert accuracy == pytest.approx(run["value"], abs=1e-6)


def test_another_limit_is_refused_and_the_same_runs_from_the_cache(home, run):
    refused = kfx(home.root, "run", TASK, *TINY, "--set", "limit=500")
    assert refused.code == 2 and "limit=500" in refused.err and "delete" in refused.err
    again = kfx(home.root, "run", TASK, *TINY, "--set", f"limit={LIMIT}")
    assert again.code == 0, again.err
    got = states(home.root, TASK, again.json["run_id"])
    assert got.pop("baseline_model_resolver") == "complete" and got["Trainer"] == "cached"


def test_a_data_dir_without_the_files_is_one_line_naming_the_fix(tmp_path):
    result = kfx(tmp_path, "run", TASK, *TINY, "--set", f"data_dir={tmp_path / 'none'}")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "train-images-idx3-ubyte.gz" in result.err and "dataset-fashion-mnist" in result.err


def test_a_vision_transformer_runs_through_the_same_pipeline(home):
    """vit on the same few images: patches, blocks and the gate's majority-class reference."""
    result = kfx(
        home.root, "run", "vit", *TINY, "--set", f"limit={LIMIT}",
        "--set", "dim=16", "--set", "blocks=1", "--set", "attention=scratch",
    )  # fmt: skip
    assert result.code == 0, result.err
    run = result.json
    states_ = states(home.root, "vit", run["run_id"])
    assert all(states_[c] == "complete" for c in ("ImportExampleGen", "Trainer", "ModelGate"))
    labels = [label for _, label in _split_of(home, "vit", "test")]
    majority = max(labels.count(c) for c in set(labels)) / len(labels)
    assert run["gate"]["naive"] == pytest.approx(majority)
    assert (run["pushed_version"] is not None) == run["blessed"]
