"""`make bench`: the Vision Transformer on Fashion-MNIST at default settings, beside its anchors.

One `kfx run vit --json` process in a fresh home, as a user runs it (about 20 minutes of
training on 2 cores, so it has its own script and section rather than adding to
bench_fashion's). Reference measured in this run on the same splits (the official 10,000
test images): scikit-learn's LogisticRegression on the pixels / 255, fitted on the 55,000
train images (bench_fashion.logistic_regression). The table is bench_gates'; the script
exits 1 when the run was not blessed or its threshold sits below the reference.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
from pathlib import Path

import bench_fashion  # tests/bench, the script's folder
import bench_gates
from report import cpu_model, write_section
from runs import ROOT, failed, kfx_run

BEGIN, END = "<!-- bench:vit:begin -->", "<!-- bench:vit:end -->"
HOME = ROOT / ".bench" / "vit"
TASK = "vit"


def render(result: dict, specs: dict, lr, failures: list[str]) -> str:
    """The BENCHMARKS.md section."""
    spec, main = specs[TASK], result["main"]
    lines = [
        BEGIN,
        "## Vision Transformer on Fashion-MNIST: default settings, official test set",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_vit.py`), run "
        f"{datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), Python "
        f"{platform.python_version()}, CPU only; 1-minute load average {main['load']:.1f} when "
        f"it started. One fresh home, one `kfx run {TASK} --json` process ({spec.train_steps} "
        "steps). Splits as bench_fashion's: train = the first 55,000 training images, eval = "
        "the last 5,000, test = the official 10,000. Anchors on this set: MLPs 0.88–0.90, "
        "small CNNs 0.91–0.93 (`fashion_mlp` and `cnn_vgg`: *Fashion-MNIST tasks*).",
        "",
        *bench_gates.gate_table([result], specs),
        "",
        (
            f"- scikit-learn reference: `LogisticRegression(max_iter=1000)` on pixels / 255, "
            f"fitted on the 55,000 train images in {lr[2]:.0f} s: {lr[0]:.4f} on the test set."
            if lr
            else "- scikit-learn reference: not measured (the run failed)."
        ),
        "",
        "Result: "
        + (
            "blessed at default settings, its threshold beyond the reference."
            if not failures
            else "**failed**: " + "; ".join(failures) + "."
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    specs = tasks.builtin()
    shutil.rmtree(HOME, ignore_errors=True)
    main_run = kfx_run(HOME, TASK)
    main_run["role"] = "default"
    lr, ref = None, None
    if not failed(main_run):
        lr = bench_fashion.logistic_regression(HOME, TASK, main_run["run_id"])
        value, n_test, _ = lr
        right = f"{round(value * n_test)} of {n_test}"
        what = f"LogisticRegression, pixels / 255: {value:.4f} ({right})"
        ref = bench_gates.Reference("accuracy", what, value, value, True, examples=n_test)
    result = {"task": TASK, "main": main_run, "reference": ref, "runs": []}
    failures = bench_gates.problems(result, specs[TASK])
    section = render(result, specs, lr, failures)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_vit failed:\n" + "\n".join(f"  {f}" for f in failures))


if __name__ == "__main__":
    main()
