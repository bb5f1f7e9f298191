"""`make bench`: cnn_vgg and what is built on it — its ModelOptimizer output and its student.

One home, in order, each step one kfx process at default settings as a user runs it:

- `kfx run cnn_vgg`: the teacher (its own row here; bench_fashion measures it beside the other
  Fashion-MNIST tasks and LogisticRegression);
- `kfx run cnn_vgg --optimize` (the Trainer comes from the cache): the ModelOptimizer's int8
  size and accuracy on the test split, written as bench_optimize's section;
- `kfx run distill`, paired by seed with the same student on the labels alone
  (`--set alpha=1`), interleaved (bench_gates.paired).

Apart from bench_fashion because the pairs alone take half an hour on 2 cores. The table is
bench_gates'; the script exits 1 when a task was not blessed (a refusal its reference
justifies excepted), its threshold sits below its reference, or the int8 model misses a goal.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import sys
from pathlib import Path

import bench_gates  # tests/bench, the script's folder
import bench_optimize
from report import cpu_model, write_section
from runs import ROOT, failed, kfx_run

BEGIN, END = "<!-- bench:distill:begin -->", "<!-- bench:distill:end -->"
HOME = ROOT / ".bench" / "distill"
TEACHER, TASK = "cnn_vgg", "distill"
OPTIMIZE_HOW = (
    "tests/bench/bench_distill.py: `kfx run cnn_vgg --optimize --json` in its home right after "
    "`kfx run cnn_vgg`, so the Trainer comes from the cache"
)


def optimizer_goals(summary: dict) -> list[str]:
    """What the int8 model misses of bench_optimize's goals ([] when it meets both)."""
    record = summary["optimizer"]
    ratio = record["float_weights_bytes"] / record["int8"]["bytes"]
    drop = -100 * record["int8"]["change"]
    ratio_goal, drop_goal = bench_optimize.TARGET_RATIO, bench_optimize.TARGET_DROP_POINTS
    found = []
    if ratio < ratio_goal:
        found.append(f"int8 model {ratio:.2f}× smaller, short of {ratio_goal}×")
    if drop > drop_goal:
        found.append(f"int8 model loses {drop:.2f} points, over {drop_goal:g}")
    return found


def render(results: list[dict], specs: dict, seeds: list[int], failures: list[str]) -> str:
    """The BENCHMARKS.md section."""
    loads = [r["main"]["load"] for r in results]
    notes = [
        line
        for r in results
        if r["reference"] and r["reference"].detail
        for line in ["", *r["reference"].detail]
    ]
    lines = [
        BEGIN,
        "## Distillation: cnn_vgg's student on Fashion-MNIST, paired with the labels alone",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_distill.py "
        f"--seeds {' '.join(map(str, seeds))}`), run {datetime.date.today().isoformat()} on "
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, CPU only; "
        f"1-minute load average {min(loads):.1f}–{max(loads):.1f} when the tasks started. "
        f"One home: `{TEACHER}` (the teacher) then `{TASK}` at default settings "
        f"({specs[TASK].train_steps} steps), each one `kfx run TASK --json` process. Splits as "
        "bench_fashion's: train = the first 55,000 training images, eval = the last 5,000, "
        "test = the official 10,000 (every value and gate below).",
        "",
        *bench_gates.gate_table(results, specs),
        *notes,
        "",
        "Result: "
        + (
            "both blessed, the student's threshold beyond its reference."
            if not failures
            else "**failed**: " + "; ".join(failures) + "."
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    args = parser.parse_args()
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    specs = tasks.builtin()
    shutil.rmtree(HOME, ignore_errors=True)
    teacher = kfx_run(HOME, TEACHER)
    teacher["role"] = "default"
    results = [{"task": TEACHER, "main": teacher, "reference": None, "runs": []}]
    failures = []
    if not failed(teacher):
        optimized = bench_optimize.run(HOME, TEACHER, [])
        section = bench_optimize.render(TEACHER, optimized, [], how=OPTIMIZE_HOW)
        write_section(args.out, bench_optimize.BEGIN, bench_optimize.END, section)
        failures += [f"{TEACHER} --optimize: {why}" for why in optimizer_goals(optimized)]
        student = kfx_run(HOME, TASK)
        student["role"] = "default"
        print(f"{TASK}: {student.get('value')} blessed {student.get('blessed')}", file=sys.stderr)
        runs = []
        ref = None if failed(student) else bench_gates.paired(HOME, TASK, args.seeds, runs)
        results.append({"task": TASK, "main": student, "reference": ref, "runs": runs})
    failures = [p for r in results for p in bench_gates.problems(r, specs[r["task"]])] + failures
    section = render(results, specs, args.seeds, failures)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_distill failed:\n" + "\n".join(f"  {f}" for f in failures))


if __name__ == "__main__":
    main()
