"""`make bench`: the Fashion-MNIST tasks at default settings, against their gates and references.

One home for all of them: each task is one `kfx run TASK --json` process at default
settings, as a user runs it. References measured in this run on the same splits (the
official 10,000 test images):

- scikit-learn's LogisticRegression on the pixels / 255, fitted on the train split (55,000);
- transfer: the same network from scratch on the same 2% (`--set from_scratch=true`), paired
  by seed.

vit is bench_vit's and distill (with cnn_vgg's ModelOptimizer run) bench_distill's: in one
piece the three would take over two hours on 2 cores.

The table reuses bench_gates' rows and checks; the script exits 1 naming every task that was
not blessed or whose threshold sits below its reference.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import bench_gates  # tests/bench, the script's folder
from report import cpu_model, write_section
from runs import ROOT, failed, kfx_run, split_rows

BEGIN, END = "<!-- bench:fashion:begin -->", "<!-- bench:fashion:end -->"
HOME = ROOT / ".bench" / "fashion"
DATA = "trainers.fashion_mnist.data"
FIRST = ("fashion_mlp", "cnn_vgg", "cnn_resnet")
ELSEWHERE = ("vit", "distill")  # bench_vit, bench_distill


def fashion_tasks(specs) -> list[str]:
    """The built-in tasks on Fashion-MNIST measured here, sources first."""
    found = [name for name, spec in specs.items() if spec.data == DATA and name not in ELSEWHERE]
    return [t for t in FIRST if t in found] + sorted(t for t in found if t not in FIRST)


def logistic_regression(home: Path, task: str, run_id: str) -> tuple[float, int, float]:
    """(test accuracy, test images, fit seconds) of LogisticRegression on pixels / 255."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def arrays(split):
        rows = split_rows(home, task, run_id, split)
        pixels = np.array([r["pixels"] for r in rows], np.float32) / 255.0
        return pixels, np.array([r["label"] for r in rows])

    x_train, y_train = arrays("train")
    x_test, y_test = arrays("test")
    start = time.monotonic()
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    return float(model.score(x_test, y_test)), len(y_test), time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    args = parser.parse_args()
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    specs = tasks.builtin()
    shutil.rmtree(HOME, ignore_errors=True)
    results, lr = [], None
    for task in fashion_tasks(specs):
        main_run = kfx_run(HOME, task)
        main_run["role"] = "default"
        print(
            f"{task}: {main_run.get('value')} blessed {main_run.get('blessed')} "
            f"({main_run['process_s']:.0f} s)",
            file=sys.stderr,
        )
        runs, ref = [], None
        if lr is None and not failed(main_run):
            lr = logistic_regression(HOME, task, main_run["run_id"])
            print(f"LogisticRegression: {lr[0]:.4f} ({lr[2]:.0f} s)", file=sys.stderr)
        if task in bench_gates.PAIRED and not failed(main_run):
            ref = bench_gates.paired(HOME, task, args.seeds, runs)
        elif lr is not None:
            value, n_test, _ = lr
            what = (
                f"LogisticRegression, pixels / 255: {value:.4f} "
                f"({round(value * n_test)} of {n_test})"
            )
            ref = bench_gates.Reference("accuracy", what, value, value, True, examples=n_test)
        results.append({"task": task, "main": main_run, "reference": ref, "runs": runs})
    failures = [p for r in results for p in bench_gates.problems(r, specs[r["task"]])]
    section = render(results, specs, args.seeds, lr, failures)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_fashion failed:\n" + "\n".join(f"  {f}" for f in failures))


def render(results, specs, seeds, lr, failures) -> str:
    """The BENCHMARKS.md section."""
    loads = [r["main"]["load"] for r in results]
    table = bench_gates.gate_table(results, specs)
    notes = [
        line
        for r in results
        if r["reference"] and r["reference"].detail
        for line in ["", *r["reference"].detail]
    ]
    steps = {r["task"]: f"{specs[r['task']].train_steps} steps" for r in results}
    lines = [
        BEGIN,
        "## Fashion-MNIST tasks: default settings, official test set",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_fashion.py "
        f"--seeds {' '.join(map(str, seeds))}`), run {datetime.date.today().isoformat()} on "
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, CPU only; "
        f"1-minute load average {min(loads):.1f}–{max(loads):.1f} when the tasks started. "
        "One home, one `kfx run TASK --json` process per task at default settings (training "
        "budgets: " + ", ".join(f"`{t}` {s}" for t, s in steps.items()) + "). Splits: train = "
        "the first 55,000 training images, eval = the last 5,000 (early stopping and "
        "checkpoints), test = the official 10,000 (every value and gate below).",
        "",
        *table,
        "",
        "Notes (measured in this run):",
        "",
        (
            f"- scikit-learn reference: `LogisticRegression(max_iter=1000)` on pixels / 255, "
            f"fitted on the 55,000 train images in {lr[2]:.0f} s: {lr[0]:.4f} on the test set."
            if lr
            else "- scikit-learn reference: not measured (the first run failed)."
        ),
        *notes,
        "",
        "Result: "
        + (
            "every threshold beyond its reference; every task blessed at default settings "
            "except those refused rightly (their reference beats them, above)."
            if not failures
            else "**failed**: " + "; ".join(failures) + "."
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
