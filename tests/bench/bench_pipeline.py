"""`make bench`: the penguin pipeline cold and fully cached, wall and per component.

Each measurement is a separate `kfx run penguin --json` process, so the wall time includes
Python start-up and imports, as a user sees it. Results replace the section between this
benchmark's markers in BENCHMARKS.md (other benchmarks own other sections).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))
BEGIN, END = "<!-- bench:penguin:begin -->", "<!-- bench:penguin:end -->"
TARGET_COLD_S, TARGET_CACHED_S = 30.0, 10.0  # from the foundation issue


def run_once(home: Path) -> dict:
    """One `kfx run penguin --json` process: its JSON summary plus the process wall time."""
    start = time.monotonic()
    proc = subprocess.run(
        [KFX, "--home", str(home), "run", "penguin", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - start
    if proc.returncode != 0:
        sys.exit(f"kfx run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["process_s"] = wall
    return summary


def render(cold: list[dict], cached: list[dict], repeats: int) -> str:
    median = statistics.median
    cold_wall = median(r["process_s"] for r in cold)
    cached_wall = median(r["process_s"] for r in cached)
    nodes = list(cold[0]["components"])
    rows = []
    for node in nodes:
        c = median(r["components"][node] for r in cold)
        k = median(r["components"][node] for r in cached)
        rows.append(f"| {node} | {c:.2f} | {k:.2f} |")
    inside = median(sum(r["components"].values()) for r in cold)
    rows.append(
        f"| *outside components: start-up, imports, compile, MLMD* | "
        f"{cold_wall - inside:.2f} | "
        f"{cached_wall - median(sum(r['components'].values()) for r in cached):.2f} |"
    )
    value = cold[0]["value"]

    def each(results):
        return ", ".join(f"{r['process_s']:.1f}" for r in results)

    lines = [
        BEGIN,
        "## Penguin pipeline: cold and fully cached",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_pipeline.py"
        f" --repeats {repeats}`), run {datetime.date.today().isoformat()} on "
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}.",
        "Each figure is the median of "
        f"{repeats} separate `kfx run penguin --json` processes (default settings: "
        f"1000 train steps, LocalDagRunner, in-memory Beam); cold = a new home, cached = the "
        "same home again.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| cold run, process wall | {cold_wall:.1f} s "
        f"(runs: {each(cold)}) | ≤ {TARGET_COLD_S:.0f} s |",
        f"| fully cached run, process wall | {cached_wall:.1f} s "
        f"(runs: {each(cached)}) "
        f"| ≤ {TARGET_CACHED_S:.0f} s |",
        f"| held-out accuracy (Evaluator) | {value:.4f} | ≥ 0.97 (gate) |",
        f"| blessed / pushed | {cold[0]['blessed']} / {bool(cold[0]['pushed_model'])} | |",
        "",
        "Where the time goes (seconds, median; from the progress hook around each component):",
        "",
        "| component | cold | cached |",
        "|---|---|---|",
        *rows,
        "",
        "For comparison, a plain TFX 1.16 penguin script with the same components took 53–66 s "
        "here (shared notes). What closed the gap: AutoGraph no longer transpiles tf_keras "
        "internals (first `fit` 13.7 s → 0.6 s), no Beam arguments for local runs (TFX "
        "otherwise builds an sdist in every Beam component), dotted `run_fn` / "
        "`preprocessing_fn` paths (no user-code wheel), Transform without its own statistics, "
        "in tf.compat.v1 mode, and TFX components imported directly rather than through "
        "`tfx.v1` (which also loads the Vertex AI extensions, ~1.3 s). A cached run re-uses "
        "every output, Evaluator and Pusher included, because the baseline is the newest "
        "model blessed before the candidate.",
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = ROOT / ".bench"
    cold, cached = [], []
    for i in range(args.repeats):
        home = base / f"penguin-{i}"
        shutil.rmtree(home, ignore_errors=True)
        cold.append(run_once(home))
        cached.append(run_once(home))
        print(
            f"repeat {i}: cold {cold[-1]['process_s']:.1f} s, "
            f"cached {cached[-1]['process_s']:.1f} s",
            file=sys.stderr,
        )
    write_section(args.out, BEGIN, END, render(cold, cached, args.repeats))
    print(render(cold, cached, args.repeats))


if __name__ == "__main__":
    main()
