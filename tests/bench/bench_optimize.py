"""`make bench`: ModelOptimizer on an image task — size and accuracy of each model variant.

One `kfx run TASK --optimize --json` process in a new home at default settings; its JSON
summary carries the optimizer's record (the same numbers are custom properties of the
ModelOptimizer artifact in MLMD and `assets.extra/optimization.json` in the pushed folder).
The results replace this benchmark's section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))
BEGIN, END = "<!-- bench:optimize:begin -->", "<!-- bench:optimize:end -->"
TARGET_RATIO, TARGET_DROP_POINTS = 3.5, 1.0  # goals: ≥ 3.5× smaller than float32, ≤ 1 point lost
LABELS = {
    "saved_model": "SavedModel (float32, as trained and blessed)",
    "pruned": "pruned + fine-tuned Keras model (float32)",
    "dynamic_range": "TFLite, dynamic-range quantised",
    "int8": "TFLite, full int8 (calibrated)",
}


def run(home: Path, task: str, extra: list[str]) -> dict:
    """One `kfx run TASK --optimize --json` process: its JSON summary plus the process wall."""
    load, start = os.getloadavg()[0], time.monotonic()
    proc = subprocess.run(
        [KFX, "--home", str(home), "run", task, "--optimize", "--json", *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.exit(f"kfx run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["process_s"], summary["load"] = time.monotonic() - start, load
    if not summary.get("optimizer"):
        sys.exit(f"no optimizer record (blessed: {summary['blessed']}):\n{proc.stderr[-3000:]}")
    return summary


def rows(record: dict) -> list[str]:
    """One table row per variant: size, ratio to the float32 weights, metric and change."""
    metric, floats = record["metric"], record["float_weights_bytes"]
    lines = []
    for variant, label in LABELS.items():
        values = record[variant]
        if "file" in values:
            size = values["bytes"]
            where = (
                f"`{values['file']}` {size / 1024:.1f} KiB (gzip {values['gzip_bytes'] / 1024:.1f})"
            )
            ratio = f"{floats / size:.2f}×"
        elif variant == "saved_model":
            where = (
                f"weights {floats / 1024:.1f} KiB (gzip {values['weights_gzip_bytes'] / 1024:.1f});"
                f" folder {values['bytes'] / 1024:.0f} KiB"
            )
            ratio = "1×"
        else:
            where = (
                f"weights {values['weights_bytes'] / 1024:.1f} KiB "
                f"(gzip {values['weights_gzip_bytes'] / 1024:.1f}), "
                f"{values['sparsity']:.0%} of kernel weights zero"
            )
            ratio = "1×"
        change = 100 * values["change"]
        lines.append(f"| {label} | {where} | {ratio} | {values[metric]:.4f} | {change:+.2f} |")
    return lines


def render(task: str, summary: dict, extra: list[str], how: str = "") -> str:
    """The section; `how` says which script ran it where (default: this script, a new home)."""
    record = summary["optimizer"]
    metric, floats = record["metric"], record["float_weights_bytes"]
    int8 = record["int8"]
    ratio = floats / int8["bytes"]
    drop = -100 * int8["change"]
    command = " ".join(["kfx run", task, "--optimize --json", *extra])
    lines = [
        BEGIN,
        f"## ModelOptimizer: pruning and TFLite quantisation ({task})",
        "",
        "Command: `make bench` ("
        + (
            how
            or f"= `{Path(sys.executable).name} tests/bench/bench_optimize.py`: one "
            f"`{command}` in a new home"
        )
        + f"), run {datetime.date.today().isoformat()} on "
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}. "
        f"Each {metric} is measured by the ModelOptimizer on the same transformed test split "
        f"(the split the gate judges; the Evaluator's {summary['metric']} of the SavedModel: "
        f"{summary['value']:.4f}); "
        "sizes are against the model's float32 weights. The pushed folder holds the "
        "SavedModel and both `.tflite` files.",
        "",
        f"| model | size | smaller than float32 weights | {metric} | change (points) |",
        "|---|---|---|---|---|",
        *rows(record),
        "",
        "| goal | result | target |",
        "|---|---|---|",
        f"| int8 TFLite vs float32 weights | {ratio:.2f}× smaller | ≥ {TARGET_RATIO}× "
        f"({'met' if ratio >= TARGET_RATIO else 'NOT met'}) |",
        f"| int8 {metric} drop | {drop:.2f} points | ≤ {TARGET_DROP_POINTS:g} "
        f"({'met' if drop <= TARGET_DROP_POINTS else 'NOT met'}) |",
        "",
        f"Ops left in float in the int8 model: {int8.get('float_ops') or 'none'}. "
        f"Wall time: {summary['process_s']:.0f} s for the whole run, of which Trainer "
        f"{summary['components'].get('Trainer', 0):.0f} s and ModelOptimizer "
        f"{summary['components'].get('ModelOptimizer', 0):.0f} s (pruning fine-tune, two "
        f"conversions, four evaluations; 1-minute load average at the start: "
        f"{summary['load']:.1f} on {os.cpu_count()} shared cores, so timings are noisy).",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--task", default="cnn_vgg")
    parser.add_argument("--set", action="append", default=[], help="passed as kfx --set")
    args = parser.parse_args()
    home = ROOT / ".bench" / f"optimize-{args.task}"
    shutil.rmtree(home, ignore_errors=True)
    extra = [f"--set={value}" for value in args.set]
    summary = run(home, args.task, extra)
    section = render(args.task, summary, extra)
    write_section(args.out, BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()
