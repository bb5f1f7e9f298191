"""The digits image tasks end to end: ImportExampleGen → … → Pusher, and `kfx predict` on images."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from pipelines import tasks
from pipelines.home import Home
from tests.e2e.helpers import kfx, serving_versions, states, supervised_components
from trainers.digits import data

pytestmark = pytest.mark.e2e

TASKS = ("digits_mlp", "subclassed", "cnn_vgg_digits", "cnn_resnet_digits")
COMPONENTS = supervised_components("ImportExampleGen")
STEPS = "40"  # tiny: behaviour, not quality (make bench measures the thresholds)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("kfx_home")


@pytest.fixture(scope="module")
def runs(home):
    """One tiny run per task, gate 0: each must run, bless and push."""
    found = {}
    for task in TASKS:
        result = kfx(home, "run", task, "--train-steps", STEPS, "--threshold", "0", "--json")
        assert result.code == 0, result.err
        found[task] = result.json
    return found


def eval_rows(home, task: str) -> pd.DataFrame:
    """The images of the split the Evaluator scores (test): `pixels` (64 values), `label`."""
    root = home / "pipelines" / task / "ImportExampleGen" / "examples"
    newest = max(root.iterdir(), key=lambda p: int(p.name))
    rows = [
        {"pixels": " ".join(f"{v:g}" for v in pixels), "label": str(label)}
        for path in sorted((newest / "Split-test").glob("*.gz"))
        for pixels, label in data.read(path)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("task", TASKS)
def test_every_component_completes_blesses_and_pushes(home, runs, task):
    summary = runs[task]
    assert summary["task"] == task and summary["metric"] == "accuracy"
    assert summary["threshold"] == 0.0 and summary["blessed"] is True
    assert states(home, task, summary["run_id"]) == {c: "complete" for c in COMPONENTS}
    pushed = Home.resolve(home).serving_dir(task) / summary["pushed_version"]
    manifest = json.loads((pushed / "assets.extra" / "kfx.json").read_text())
    assert manifest["features"] == {"pixels": "FLOAT"} and manifest["shapes"] == {"pixels": [8, 8]}
    assert sorted(manifest["classes"]) == [str(d) for d in range(10)]


@pytest.mark.parametrize("task", TASKS)
def test_cli_predict_on_eval_rows_agrees_with_the_evaluator(home, runs, task, tmp_path):
    rows = eval_rows(home, task)
    source, out = tmp_path / "eval.csv", tmp_path / "pred.csv"
    rows.to_csv(source, index=False)
    result = kfx(home, "predict", task, "--input", str(source), "--output", str(out))
    assert result.code == 0, result.err
    predicted = pd.read_csv(out, dtype={"label": str, "prediction": str})
    accuracy = float(np.mean(predicted["prediction"] == predicted["label"]))
    assert len(predicted) == len(rows) > 200  # the test split: 15% of 1797 images
    assert accuracy == pytest.approx(runs[task]["value"], abs=1e-6)
    assert predicted["score"].between(0, 1).all()


def test_predict_takes_one_column_per_pixel(home, runs, tmp_path):
    rows = eval_rows(home, "cnn_vgg_digits").head(20)
    values = np.array([r.split() for r in rows["pixels"]], dtype=float)
    wide = pd.DataFrame(values, columns=[f"pixels_{i}" for i in range(64)])
    packed, split = tmp_path / "packed.csv", tmp_path / "split.csv"
    rows.to_csv(packed, index=False)
    wide.to_csv(split, index=False)
    outs = []
    for source in (packed, split):
        out = source.with_suffix(".out.csv")
        assert (
            kfx(
                home, "predict", "cnn_vgg_digits", "--input", str(source), "--output", str(out)
            ).code
            == 0
        )
        outs.append(pd.read_csv(out))
    assert outs[0]["prediction"].tolist() == outs[1]["prediction"].tolist()
    np.testing.assert_allclose(outs[0]["score"], outs[1]["score"], atol=1e-6)


def test_subclassed_loop_logs_to_tensorboard(home, runs):
    from tensorboard.backend.event_processing import event_multiplexer

    model_run = Home.resolve(home).pipeline_root("subclassed") / "Trainer" / "model_run"
    logs = event_multiplexer.EventMultiplexer()
    logs.AddRunsFromDirectory(str(model_run))
    logs.Reload()
    sides = {
        run.rsplit("/", 1)[-1]: logs.GetAccumulator(run).Tags()["tensors"] for run in logs.Runs()
    }
    assert {"epoch_loss", "epoch_accuracy"} <= set(sides["train"])
    assert {"epoch_loss", "epoch_accuracy"} <= set(sides["validation"])


def test_bad_image_span_stops_at_the_anomaly_gate(home, runs):
    before = serving_versions(home, "digits_mlp")
    span = Home.resolve(home).data_dir("digits_mlp") / "span-2"
    span.mkdir()
    pixels, labels = data.load()
    import tensorflow as tf

    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(str(span / data.FILENAME), options) as writer:
        for image, label in zip(pixels[:300] * 16, labels[:300], strict=True):  # 0..255 images
            writer.write(data.to_example(image, label))
    result = kfx(home, "run", "digits_mlp", "--train-steps", STEPS, "--json")
    assert result.code == 3
    assert "pixels" in result.err
    # kfx moved the bad span aside itself: the next run uses the last good span.
    data_dir = Home.resolve(home).data_dir("digits_mlp")
    assert not span.exists() and [p.name for p in data_dir.glob("span-*")] == ["span-1"]
    assert any((data_dir / "rejected").glob("span-2-*/REJECTED.txt"))
    got = states(home, "digits_mlp", result.json["run_id"])
    assert got["AnomalyGate"] == "failed"
    assert not {"Transform", "Trainer", "Evaluator", "Pusher"} & set(got)
    assert serving_versions(home, "digits_mlp") == before


def test_a_task_on_a_subset_of_the_digits(home):
    """data_options pick digits 0-4: the model knows those five classes only."""
    spec = dataclasses.replace(
        tasks.get("digits_mlp", Home.resolve(home)),
        name="digits_low",
        data_options={"classes": [0, 1, 2, 3, 4]},
    )
    folder = Home.resolve(home).tasks_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "digits_low.json").write_text(json.dumps(dataclasses.asdict(spec)))
    result = kfx(home, "run", "digits_low", "--train-steps", STEPS, "--threshold", "0", "--json")
    assert result.code == 0, result.err
    pushed = Home.resolve(home).serving_dir("digits_low") / result.json["pushed_version"]
    manifest = json.loads((pushed / "assets.extra" / "kfx.json").read_text())
    assert sorted(manifest["classes"]) == ["0", "1", "2", "3", "4"]
    assert set(eval_rows(home, "digits_low")["label"]) == {"0", "1", "2", "3", "4"}
