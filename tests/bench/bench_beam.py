"""`make bench`: Beam scale-out of the supervised pipeline's data half on a generated CSV.

ExampleGen → StatisticsGen → SchemaGen → ExampleValidator → AnomalyGate → Transform (a TFX
partial run to Transform) with DirectRunner in memory (1 worker) and in multi_processing
mode (2 workers). Each measurement is its own process with a fresh home, so nothing is cached
and peak memory is per run. Results replace this benchmark's section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))
from bench_pipeline import cpu_model, write  # noqa: E402

BENCH = ROOT / ".bench" / "beam"
BEGIN, END = "<!-- bench:beam:begin -->", "<!-- bench:beam:end -->"
NODES = ("CsvExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator", "AnomalyGate")
NODES += ("Transform",)


def make_csv(rows: int) -> Path:
    """6 numeric and 3 string columns with ~5% missing values and a 3-class label (seed 0)."""
    import numpy as np
    import pandas as pd

    path = BENCH / f"data-{rows}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, rows),
            "income": rng.lognormal(10, 0.8, rows).round(2),
            "score": rng.normal(0, 1, rows).round(4),
            "ratio": rng.uniform(0, 1, rows).round(4),
            "visits": rng.poisson(3, rows),
            "temp": rng.normal(20, 5, rows).round(2),
            "city": rng.choice([f"city_{i}" for i in range(20)], rows),
            "device": rng.choice(["mobile", "desktop", "tablet", "tv", "other"], rows),
            "plan": rng.choice(["free", "basic", "pro"], rows, p=[0.6, 0.3, 0.1]),
        }
    )
    logit = frame.score + 2 * frame.ratio - 1 + (frame.plan == "pro") + rng.normal(0, 0.5, rows)
    frame["label"] = np.digitize(logit, [-0.5, 0.8])
    for column in ("income", "visits", "temp", "city", "device"):
        frame[column] = frame[column].mask(rng.random(rows) < 0.05)
    frame["visits"] = frame["visits"].astype("Int64")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path.with_suffix(".tmp"), index=False)
    path.with_suffix(".tmp").rename(path)
    return path


def measure(rows: int, workers: int) -> dict:
    """One partial run to Transform in this process; prints nothing, returns the figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import psutil

    from pipelines import local, options, tasks
    from pipelines.home import Home

    data = make_csv(rows)
    home = Home(BENCH / f"home-{rows}-w{workers}")
    shutil.rmtree(home.root, ignore_errors=True)
    spec = tasks.register_csv(home, data, "label", name="beam")
    opts = options.RunOptions(
        input_dir=tasks.input_dir(home, spec), beam_args=options.beam_args("DirectRunner", workers)
    )
    seconds: dict[str, float] = {}
    peak = [0]  # RSS of this process and all its descendants, sampled
    done = threading.Event()

    def sample() -> None:
        me = psutil.Process()
        while not done.wait(0.2):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)

    def progress(node: str, event: str, secs: float) -> None:
        if event == "finished":
            seconds[node] = secs

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    result = {"rows": rows, "workers": workers, "beam_args": list(opts.beam_args)}
    start = time.monotonic()
    try:
        local.run(spec, home, opts, progress=progress, to_nodes=("Transform",))
    except local.PipelineFailed as failure:
        result["error"] = f"{failure.node}: {type(failure.cause).__name__}: {failure.cause}"
    result["wall_s"] = time.monotonic() - start
    done.set()
    sampler.join()
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kib_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result.update(components=seconds, tree_rss=peak[0], self_rss=kib * 1024)
    result["child_rss"] = kib_children * 1024
    return result


def render(results: list[dict], rows: int) -> str:
    one, two = results  # workers 1 and 2
    gib = 2**30
    ok = "error" not in one and "error" not in two

    lines = [
        f"| {n} | {one['components'].get(n, 0):.1f} | {two['components'].get(n, 0):.1f} |"
        for n in NODES
    ]
    lines += [
        f"| **partial run, wall** | **{one['wall_s']:.1f}** | **{two['wall_s']:.1f}** |",
        f"| rows/s | {rows / one['wall_s']:,.0f} | {rows / two['wall_s']:,.0f} |",
        f"| peak RSS, bench process | {one['self_rss'] / gib:.2f} GiB "
        f"| {two['self_rss'] / gib:.2f} GiB |",
        f"| peak RSS, largest worker process | {one['child_rss'] / gib:.2f} GiB "
        f"| {two['child_rss'] / gib:.2f} GiB |",
        f"| peak RSS, whole process tree (sampled 5/s) | {one['tree_rss'] / gib:.2f} GiB "
        f"| {two['tree_rss'] / gib:.2f} GiB |",
    ]
    errors = [
        f"- {r['workers']} worker(s) failed: `{r['error'][:300]}`" for r in results if "error" in r
    ]
    speedup = one["wall_s"] / two["wall_s"]
    cores = os.cpu_count()
    verdict = (
        f"On {cores} cores, 2 workers ran the data half {speedup:.2f}× as fast as 1 "
        f"(Transform {one['components']['Transform'] / two['components']['Transform']:.2f}×)."
        if ok
        else "The 2-worker run failed, so there is no speed-up to report (see above)."
    )
    return (
        "\n".join(
            [
                BEGIN,
                "## Beam scale-out: data half of the supervised pipeline",
                "",
                f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_beam.py"
                f" --rows {rows}`), run {datetime.date.today().isoformat()} on {cores} cores "
                f"({cpu_model()}), Python {platform.python_version()}.",
                f"A generated CSV of {rows:,} rows (6 numeric and 3 string columns, ~5% missing in 5 of "
                "them, a 3-class label) registered as a tabular task in a fresh home; "
                '`local.run(..., to_nodes=("Transform",))` runs CsvExampleGen → StatisticsGen → '
                "SchemaGen → ExampleValidator → AnomalyGate → Transform (LocalDagRunner), each worker "
                "count once, in its own process.",
                "",
                "| seconds (progress hook) | 1 worker: DirectRunner in memory | "
                "2 workers: `--direct_running_mode=multi_processing` |",
                "|---|---|---|",
                *lines,
                "",
                *errors,
                verdict + " " + EXPLANATION,
                END,
            ]
        )
        + "\n"
    )


EXPLANATION = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--one", type=int, metavar="WORKERS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        import pipelines  # noqa: F401  (TF_USE_LEGACY_KERAS before TensorFlow loads)

        print(json.dumps(measure(args.rows, args.one)))
        return
    make_csv(args.rows)
    results = []
    for workers in (1, 2):
        cmd = [sys.executable, __file__, "--rows", str(args.rows), "--one", str(workers)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode != 0:
            sys.exit(f"{workers} worker(s): exit {proc.returncode}\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), file=sys.stderr)
    section = render(results, args.rows)
    write(section, args.out)
    print(section)


if __name__ == "__main__":
    main()
