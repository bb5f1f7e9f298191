"""The report page from hand-made artifacts: every section, self-contained, failing alone."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

import components.reporting as reporting
from components import gate
from components.report import HTMLReport
from components.reporting import sources
from trainers.common import board

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?!data:|#)""", re.IGNORECASE)


def _statistics(root) -> tuple[str, str]:
    for split, rows in (("train", 70), ("test", 15)):
        stats = statistics_pb2.DatasetFeatureStatisticsList()
        dataset = stats.datasets.add(num_examples=rows)
        mass = dataset.features.add()
        mass.path.step.append("body_mass_g")
        mass.num_stats.mean, mass.num_stats.std_dev = 4200.0, 800.0
        mass.num_stats.min, mass.num_stats.max = 2700.0, 6300.0
        mass.num_stats.common_stats.num_missing = 2
        island = dataset.features.add()
        island.path.step.append("island")
        island.string_stats.unique = 3
        island.string_stats.top_values.add(value="Biscoe", frequency=40)
        folder = root / f"Split-{split}"
        folder.mkdir(parents=True)
        (folder / "FeatureStats.pb").write_bytes(stats.SerializeToString())
    return str(root), json.dumps(["train", "test"])


def _anomalies(root, found: bool) -> tuple[str, str]:
    folder = root / "Split-test"
    folder.mkdir(parents=True)
    anomalies = anomalies_pb2.Anomalies()
    if found:
        info = anomalies.anomaly_info["island"]
        info.description = "Examples contain values missing from the schema: Atlantis."
        info.reason.add(short_description="Unexpected string values")
    (folder / "SchemaDiff.pb").write_bytes(anomalies.SerializeToString())
    return str(root), json.dumps(["test"])


def _blessing(root, passed_baseline: bool) -> str:
    baseline = 0.95 if passed_baseline else 1.0
    check = gate.Check("accuracy", 0.98, True, 0.97, naive=0.45, margin=0.01, baseline=baseline)
    gate.write(str(root), gate.decide([check]))
    return str(root)


def _model_run(root) -> str:
    for run, offset in (("train", 0.0), ("validation", 0.1)):
        writer = tf.summary.create_file_writer(str(root / run))
        with writer.as_default():
            for epoch in range(4):
                tf.summary.scalar("epoch_loss", 1.0 / (epoch + 1) + offset, step=epoch)
                tf.summary.scalar("epoch_accuracy", 0.5 + 0.1 * epoch - offset, step=epoch)
        writer.close()
    counts = board.confusion([0, 1, 2, 2], [0, 1, 2, 1], 3)
    writer = tf.summary.create_file_writer(str(root / "validation"))
    with writer.as_default():
        image = board.picture(counts, ("Adelie", "Chinstrap", "Gentoo"), "eval split")
        tf.summary.image(board.IMAGE_TAG, image[None], step=3)
    writer.close()
    return str(root)


@pytest.fixture(scope="module")
def supervised(tmp_path_factory) -> reporting.Inputs:
    root = tmp_path_factory.mktemp("artifacts")
    return reporting.Inputs(
        task="penguin",
        run_id="2026-12-01T08:33:36.283",
        started=1.8e9,
        statistics=_statistics(root / "stats"),
        anomalies=_anomalies(root / "anomalies", found=False),
        model_run=_model_run(root / "model_run"),
        blessing=_blessing(root / "blessing", passed_baseline=False),
        pushed={"pushed": False, "version": "", "destination": ""},
    )


def test_events_give_curves_per_run_and_the_confusion_matrix(supervised):
    found = sources.events(supervised.model_run)
    assert set(found.scalars["epoch_loss"]) == {"train", "validation"}
    assert [step for step, _ in found.scalars["epoch_accuracy"]["train"]] == [0, 1, 2, 3]
    [(run, tag, png)] = found.images
    assert (run, tag) == ("validation", "confusion_matrix") and png.startswith(b"\x89PNG")


def test_the_page_explains_a_refusal_by_the_baseline(supervised):
    html = reporting.render(supervised)
    assert 'id="verdict">NOT BLESSED' in html
    assert "worse than the blessed baseline 1" in html
    assert "(a) threshold: accuracy must be at least 0.97" in html
    assert "(b) naive predictor of the same run scored 0.45" in html
    assert "the serving model is unchanged" in html
    for section in ("gate", "evaluation", "curves", "pictures", "data", "sources"):
        assert f'<section id="{section}">' in html
    assert html.count("data:image/png;base64,") == 2  # learning curves and the confusion matrix
    assert "train: 70 examples" in html and "body_mass_g" in html and "Biscoe (40)" in html
    assert "no anomalies" in html


def test_the_page_is_self_contained(supervised):
    html = reporting.render(supervised)
    assert not EXTERNAL.findall(html)
    assert "<script" not in html and "url(" not in html and "@import" not in html


def test_anomalies_are_listed(tmp_path, supervised):
    inputs = reporting.Inputs(task="penguin", anomalies=_anomalies(tmp_path, found=True))
    html = reporting.render(inputs)
    assert "Unexpected string values" in html and "Atlantis" in html
    assert "No gate decision" in html


def test_a_policy_report_shows_the_returns(tmp_path):
    record = {
        "episodes": 5,
        "seed": 10_000,
        "threshold": 195.0,
        "mean_return": 200.0,
        "std_return": 3.0,
        "returns": [200.0, 198.0, 202.0, 199.0, 201.0],
        "baseline_returns": None,
        "random_returns": [20.0, 18.0, 25.0, 30.0, 11.0],
    }
    (tmp_path / sources.RETURNS_FILE).write_text(json.dumps(record))
    html = reporting.render(reporting.Inputs(task="cartpole_qnet", evaluation=str(tmp_path)))
    assert "mean return" in html and 'alt="episode returns"' in html
    assert "reads no data files" in html


def test_an_unreadable_section_does_not_lose_the_page(tmp_path):
    (tmp_path / "Split-test").mkdir()
    (tmp_path / "Split-test" / "SchemaDiff.pb").write_bytes(b"not a proto")
    inputs = reporting.Inputs(task="penguin", anomalies=(str(tmp_path), '["test"]'))
    html = reporting.render(inputs)
    assert "could not be read: DataValidationError" in html
    assert '<section id="gate">' in html


def test_the_error_page_and_the_artifact_type():
    html = reporting.error_page("penguin", ValueError("boom"))
    assert "ValueError: boom" in html
    assert HTMLReport.TYPE_NAME == "system.HTML"
    artifact = HTMLReport()
    assert artifact.decode(artifact.encode("<p>é</p>")) == "<p>é</p>"


def test_confusion_counts_true_rows_predicted_columns():
    counts = board.confusion([0, 0, 1, 2], [0, 1, 1, 2], 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert board.picture(counts, ("a", "b", "c"), "t").shape[-1] == 3
    assert board._heatmap(np.eye(2, dtype=int)).shape == (32, 32, 3)
