"""`make bench`: transfer (frozen vs fine-tuned vs from scratch) and distill (vs scratch).

One home, every run a `kfx run TASK --json` process as a user runs it. The sources are pushed
first at default settings (cnn_digits04 on digits 0-4, the cnn_vgg teacher on all digits).
Transfer variants train on digits 5-9 with only `--set train_fraction` of the training split
(small data) and the same steps; the distill variants differ only in alpha (alpha=1: the same
student on the labels alone). Values are the Evaluator's accuracy on the full eval split.
"""

from __future__ import annotations

import argparse
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
BEGIN, END = "<!-- bench:transfer:begin -->", "<!-- bench:transfer:end -->"
FRACTIONS = ("0.1", "0.03")  # small data: ~60 and ~18 of the ~600 digits 5-9 training images
TRANSFER = (
    ("transfer: frozen backbone, head only", ("frozen_fraction=1.0",)),
    ("transfer: frozen, then fine-tuned (LR x0.1)", ()),
    ("transfer: same network from scratch", ("from_scratch=true",)),
)
# (row label, task, --set overrides), in the order they run
RUNS = (
    ("source: cnn_digits04 (digits 0-4, all data)", "cnn_digits04", ()),
    *(
        (label, "transfer", (f"train_fraction={fraction}", *sets))
        for fraction in FRACTIONS
        for label, sets in TRANSFER
    ),
    ("teacher: cnn_vgg (all digits)", "cnn_vgg", ()),
    ("distill: student, alpha=0.1, T=4", "distill", ()),
    ("distill: same student from scratch (alpha=1)", "distill", ("alpha=1.0",)),
)


def run(home: Path, task: str, sets: tuple[str, ...]) -> dict:
    """One `kfx run` process; its summary plus process wall time and load at start."""
    args = [KFX, "--home", str(home), "run", task, "--json"]
    for pair in sets:
        args += ["--set", pair]
    load, start = os.getloadavg()[0], time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        sys.exit(f"{' '.join(args[3:])}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}")
    summary = json.loads(lines[-1])
    summary.update(sets=sets, process_s=time.monotonic() - start, load=load)
    return summary


def render(rows: list[tuple[str, dict]]) -> str:
    """The BENCHMARKS.md section."""
    loads = [r["load"] for _, r in rows]
    table = [
        "| run | `--set` | eval accuracy | blessed | train (s) | total (s) |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        sets = ", ".join(f"`{s}`" for s in r["sets"]) or "—"
        table.append(
            f"| {label} | {sets} | {r['value']:.4f} | {'yes' if r['blessed'] else 'no'} "
            f"| {r['components'].get('Trainer', 0):.1f} | {r['process_s']:.1f} |"
        )
    return "\n".join(
        [
            BEGIN,
            "## Transfer learning and distillation",
            "",
            f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_transfer.py`)"
            f", on {os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
            f"{time.strftime('%Y-%m-%d')}. One home; each row is one `kfx run TASK --json` "
            "process at the task's default steps (1000), in this order, so `transfer` and "
            "`distill` resolve the newest pushed source model through MLMD. Transfer rows train "
            "on a fixed `train_fraction` of the digits 5-9 training split (small data: 0.1 is "
            "~60 images, 0.03 ~18); accuracy is the Evaluator's on the full eval split (a third "
            "of the data, ~300 images: one image is 0.3 points). *blessed*: at or above the "
            "task's gate (0.95) and not worse than the task's newest blessed model, so a later, "
            "weaker variant shows `no` whatever its value. Wall times are noisy: "
            f"the 1-minute load average was {min(loads):.1f}–{max(loads):.1f} on these "
            f"{os.cpu_count()} shared cores.",
            "",
            *table,
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    home = ROOT / ".bench" / "transfer"
    shutil.rmtree(home, ignore_errors=True)
    rows = []
    for label, task, sets in RUNS:
        rows.append((label, run(home, task, sets)))
        print(f"{label}: {rows[-1][1]['value']:.4f}", file=sys.stderr)
    section = render(rows)
    write_section(args.out, BEGIN, END, section + "\n")
    print(section)


if __name__ == "__main__":
    main()
