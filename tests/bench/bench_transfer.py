"""`make bench`: does the 0-4 backbone help on small 5-9 data? Transfer variants vs scratch.

One home: `kfx run cnn_digits04` (the source, default settings), then for every seed and
every variant one `kfx run transfer_digits --json --set seed=S --set train_fraction=F [--set ...]`
process, interleaved (each seed runs every variant, in an order rotated per seed, so load
drift spreads over all of them). Every variant states all the settings it depends on, so a
row stays true when the task's defaults change. `train_fraction` keeps a fixed subset of the
digits 5-9 training split (a hash of each image, the same for every seed); accuracy is the
Evaluator's on the full test split. Each variant is compared with the from-scratch network
at the same fraction and seed (paired difference).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import ROOT, failed, kfx_run

BEGIN, END = "<!-- bench:transfer:begin -->", "<!-- bench:transfer:end -->"
SCRATCH = "from scratch"
# (label, --set values besides seed and train_fraction); SCRATCH is every variant's pair
VARIANTS = {
    SCRATCH: ("from_scratch=true",),
    "frozen 50%, fine-tune LR x0.1 (head 64, dropout 0.3)": (
        "frozen_fraction=0.5",
        "fine_tune_lr_factor=0.1",
        "dense=64",
        "dropout=0.3",
    ),
    "frozen only (head only)": ("frozen_fraction=1.0", "dense=64", "dropout=0.3"),
    "frozen 20%, fine-tune LR x1": (
        "frozen_fraction=0.2",
        "fine_tune_lr_factor=1.0",
        "dense=64",
        "dropout=0.3",
    ),
    "cut at block1_conv1 (before the last pooling)": (
        "backbone_layer=block1_conv1",
        "frozen_fraction=0.5",
        "fine_tune_lr_factor=0.1",
        "dense=64",
        "dropout=0.3",
    ),
    "cut after the source's dense layer (its 128 features)": (
        "backbone_layer=dense",
        "frozen_fraction=0.5",
        "fine_tune_lr_factor=0.1",
        "dense=64",
        "dropout=0.3",
    ),
    "head 128, dropout 0.5": (
        "frozen_fraction=0.5",
        "fine_tune_lr_factor=0.1",
        "dense=128",
        "dropout=0.5",
    ),
}
# (train_fraction, variants measured at it)
GRID = (
    ("0.05", (SCRATCH, "frozen 50%, fine-tune LR x0.1 (head 64, dropout 0.3)")),
    ("0.1", tuple(VARIANTS)),
    ("0.2", (SCRATCH, "frozen 50%, fine-tune LR x0.1 (head 64, dropout 0.3)")),
)


def measure(home: Path, seeds: list[int], grid) -> dict:
    """{(fraction, variant): {seed: summary}}, seeds outermost, order rotated per seed."""
    cells = [(fraction, name) for fraction, names in grid for name in names]
    results: dict = {cell: {} for cell in cells}
    for i, seed in enumerate(seeds):
        shift = i % len(cells)
        for fraction, name in cells[shift:] + cells[:shift]:
            sets = (f"seed={seed}", f"train_fraction={fraction}", *VARIANTS[name])
            summary = kfx_run(home, "transfer_digits", sets)
            results[(fraction, name)][seed] = summary
            print(
                f"seed {seed} fraction {fraction} {name}: {summary.get('value')} "
                f"({summary['process_s']:.0f} s, load {summary['load']:.1f})",
                file=sys.stderr,
            )
    return results


def render(source: dict, results: dict, seeds: list[int], grid) -> str:
    """The BENCHMARKS.md section: per-seed accuracy, mean, and paired difference to scratch."""
    loads = [s["load"] for cell in results.values() for s in cell.values()]
    table = [
        "| train_fraction | variant | `--set` (besides seed, train_fraction) | "
        + " | ".join(f"seed {s}" for s in seeds)
        + " | mean | minus scratch, mean (per seed) | Trainer s (median) |",
        "|---|---|---|" + "---|" * len(seeds) + "---|---|---|",
    ]
    for fraction, names in grid:
        scratch = results[(fraction, SCRATCH)]
        for name in names:
            cell = results[(fraction, name)]
            values = [None if failed(cell[s]) else cell[s]["value"] for s in seeds]
            shown = ["failed" if v is None else f"{v:.4f}" for v in values]
            ok = [v for v in values if v is not None]
            mean = f"{statistics.mean(ok):.4f}" if ok else "—"
            diffs = [
                cell[s]["value"] - scratch[s]["value"]
                for s in seeds
                if not failed(cell[s]) and not failed(scratch[s])
            ]
            diff = (
                "—"
                if name == SCRATCH or not diffs
                else f"{statistics.mean(diffs):+.4f} ({', '.join(f'{d:+.3f}' for d in diffs)})"
            )
            trainer = [cell[s]["components"]["Trainer"] for s in seeds if not failed(cell[s])]
            table.append(
                f"| {fraction} | {name} | {', '.join(f'`{v}`' for v in VARIANTS[name])} | "
                + " | ".join(shown)
                + f" | {mean} | {diff} | {statistics.median(trainer) if trainer else 0:.1f} |"
            )
    return "\n".join(
        [
            BEGIN,
            "## Transfer learning: the 0-4 backbone vs the same network from scratch",
            "",
            f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_transfer.py"
            f" --seeds {' '.join(map(str, seeds))}`), run {datetime.date.today().isoformat()} on "
            f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; the "
            f"1-minute load average was {min(loads):.1f}–{max(loads):.1f} at the runs' start. "
            f"One home: the source `cnn_digits04` at default settings (test accuracy "
            f"{source['value']:.4f}, blessed: {source['blessed']}), then one "
            "`kfx run transfer_digits --json --set seed=S --set train_fraction=F ...` process "
            "per cell "
            "and seed, interleaved. `train_fraction` keeps a fixed subset (by a hash of each "
            "image) of the digits 5-9 training split; every model is scored on the full test "
            "split. *minus scratch*: the paired difference to the from-scratch network at the "
            "same fraction and seed.",
            "",
            *table,
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    args = parser.parse_args()
    home = ROOT / ".bench" / "transfer"
    shutil.rmtree(home, ignore_errors=True)
    source = kfx_run(home, "cnn_digits04")
    if failed(source) or not source["pushed_model"]:
        sys.exit(f"cnn_digits04 pushed no model: {source.get('error') or source['gate']}")
    results = measure(home, args.seeds, GRID)
    section = render(source, results, args.seeds, GRID)
    write_section(args.out, BEGIN, END, section + "\n")
    print(section)
    broken = [f"{c} seed {s}" for c, cell in results.items() for s, r in cell.items() if failed(r)]
    if broken:
        sys.exit(f"transfer runs failed: {'; '.join(broken)}")


if __name__ == "__main__":
    main()
