"""speech_transformer end to end: clips synthesised, held-out voices as test, predict on audio.

The 18 base training voices only (`extra_voices=0`: 3,600 clips, synthesised by the run,
about a minute and a half on 2 cores; eval and test are the default's), eight epochs of one
block, and `--threshold 0.6` (the majority class + the margin): this checks the pipeline,
not the model. make bench runs the default data and budget against the real gate, beside
LogisticRegression on the same log-mel frames.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from pipelines.home import Home
from tests.e2e.helpers import kfx, states, supervised_components
from trainers.speech_transformer import data, synth

pytestmark = pytest.mark.e2e

TASK, TEST = "speech_transformer", 720
EPOCH = 68  # steps of one pass over the 2,160 base training clips at batch 32


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return Home.resolve(tmp_path_factory.mktemp("speech_home"))


@pytest.fixture(scope="module")
def run(home):
    steps = str(8 * EPOCH)
    args = ("--train-steps", steps, "--threshold", "0.6", "--json", "--set", "blocks=1")
    args += ("--set", "extra_voices=0", "--set", f"steps_per_epoch={EPOCH}")
    result = kfx(home.root, "run", TASK, *args)
    assert result.code == 0, result.err
    return result.json


def _split(home: Home, split: str) -> list[tuple[np.ndarray, str]]:
    root = home.pipeline_root(TASK) / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    return [r for path in sorted((newest / f"Split-{split}").glob("*.gz")) for r in data.read(path)]


def _digests(rows) -> set[str]:
    return {hashlib.sha256(wave.tobytes() + word.encode()).hexdigest() for wave, word in rows}


def test_runs_and_pushes_with_the_test_split_as_the_gate_saw_it(home, run):
    assert run["blessed"] is True and run["gate"]["naive"] == pytest.approx(0.1)
    components = supervised_components("ImportExampleGen")
    assert states(home.root, TASK, run["run_id"]) == {c: "complete" for c in components}


def test_the_test_split_is_the_held_out_voices_clips_and_no_training_clip(home, run):
    test, train = _split(home, "test"), _split(home, "train")
    assert len(test) == TEST
    wanted = data.splits()["test"]
    made = zip(synth.waveforms(wanted), [c.word for c in wanted], strict=True)
    assert _digests(test) == _digests(made)  # the very bytes a fresh synthesis makes
    assert not _digests(test) & _digests(train)


def test_predict_on_raw_waveforms_agrees_with_the_evaluator(home, run, tmp_path):
    rows = _split(home, "test")
    source, out = tmp_path / "clips.csv", tmp_path / "pred.csv"
    cells = [" ".join(f"{v:.9g}" for v in wave) for wave, _ in rows]  # float32 round-trips
    pd.DataFrame({"waveform": cells, "digit": [w for _, w in rows]}).to_csv(source, index=False)
    result = kfx(home.root, "predict", TASK, "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    predicted = pd.read_csv(out, keep_default_na=False)
    assert len(predicted) == TEST
    accuracy = float(np.mean(predicted["prediction"] == predicted["digit"]))
    assert accuracy == pytest.approx(run["value"], abs=1e-6)
