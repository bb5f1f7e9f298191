"""seq2seq end to end: generated pairs, greedy decoding in the signature, predict on words.

All 24,000 pairs, two passes over the training ones (enough for the 0.9 exact-match gate on
unseen numbers); make bench runs the default budget.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx, states, supervised_components
from trainers.seq2seq import data
from trainers.seq2seq.task import EPOCH

pytestmark = pytest.mark.e2e

TASK, TEST = "seq2seq", 2000


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("seq2seq_home"))


@pytest.fixture(scope="module")
def run(home):
    result = kfx(home.root, "run", TASK, "--train-steps", str(2 * EPOCH), "--json")
    assert result.code == 0, result.err
    return result.json


def _split(home: Home, split: str):
    root = home.pipeline_root(TASK) / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return [r for path in sorted((newest / f"Split-{split}").glob("*.gz")) for r in data.read(path)]


def test_runs_and_pushes_with_the_test_split_as_the_gate_saw_it(home, run):
    assert run["blessed"] is True and run["metric"] == "exact_match"
    assert run["value"] >= 0.9 and run["gate"]["naive"] == 0.0  # every test number is unseen
    components = supervised_components("ImportExampleGen")
    assert states(home.root, TASK, run["run_id"]) == {c: "complete" for c in components}


def test_no_test_number_was_a_training_pair(home, run):
    train = {digits for _, digits in _split(home, "train")}
    test = {digits for _, digits in _split(home, "test")}
    assert len(test) == TEST and not train & test


def test_predict_decodes_words_to_digits_as_the_evaluator_scored(home, run, tmp_path):
    rows = _split(home, "test")
    source, out = tmp_path / "numbers.csv", tmp_path / "pred.csv"
    frame = pd.DataFrame({"words": [w for w, _ in rows], "digits": [d for _, d in rows]})
    frame.to_csv(source, index=False)
    result = kfx(home.root, "predict", TASK, "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(predicted) == TEST
    exact = (predicted["prediction"] == predicted["digits"]).mean()
    assert exact == pytest.approx(run["value"], abs=1e-6)
    scores = predicted["score"].astype(float)
    assert scores.between(0.0, 1.0).all() and scores.median() > 0.5
