"""text_transformer end to end: reviews as tf.Examples, the vocabulary of train, predict on text.

All 5,000 reviews, two passes over the training ones (a few seconds of training is not
enough to beat the majority class by the gate's margin); make bench runs the default budget,
beside TF-IDF + LogisticRegression.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx, states, supervised_components
from trainers.text_transformer import data
from trainers.text_transformer.features import REVIEW

pytestmark = pytest.mark.e2e

TASK, TEST = "text_transformer", 1000


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("text_home"))


@pytest.fixture(scope="module")
def run(home):
    result = kfx(
        home.root, "run", TASK, "--train-steps", "212", "--json", "--set", "attention=scratch"
    )
    assert result.code == 0, result.err
    return result.json


def _split(home: Home, split: str):
    root = home.pipeline_root(TASK) / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return [r for path in sorted((newest / f"Split-{split}").glob("*.gz")) for r in data.read(path)]


def _vocabulary(home: Home) -> list[str]:
    root = home.pipeline_root(TASK) / "Transform" / "transform_graph"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return (newest / "transform_fn" / "assets" / REVIEW).read_text().split("\n")


def test_runs_and_pushes_with_the_test_split_as_the_gate_saw_it(home, run):
    assert run["blessed"] is True and run["gate"]["naive"] is not None
    components = supervised_components("ImportExampleGen")
    assert states(home.root, TASK, run["run_id"]) == {c: "complete" for c in components}


def test_the_vocabulary_comes_from_the_train_split_only(home, run):
    from trainers.text_transformer.preprocessing import tokens

    words = lambda rows: {t.decode() for r, _ in rows for t in tokens([r]).numpy()[0]}  # noqa: E731
    train, test = words(_split(home, "train")), words(_split(home, "test"))
    vocabulary = set(_vocabulary(home)) - {""}
    only_test = test - train
    assert only_test and not (vocabulary & only_test)
    assert vocabulary <= train


def test_predict_on_raw_review_text_agrees_with_the_evaluator(home, run, tmp_path):
    rows = _split(home, "test")
    source, out = tmp_path / "reviews.csv", tmp_path / "pred.csv"
    pd.DataFrame({"review": r, "score": s} for r, s in rows).to_csv(source, index=False)
    result = kfx(home.root, "predict", TASK, "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    predicted = pd.read_csv(out, keep_default_na=False)
    assert len(predicted) == TEST
    # The label column `score` is kept; the model's score is `predicted_score`.
    assert predicted["predicted_score"].between(0.5, 1.0).all()
    accuracy = float(np.mean(predicted["prediction"] == predicted["score"]))
    assert accuracy == pytest.approx(run["value"], abs=1e-6)
