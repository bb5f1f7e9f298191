"""`make bench`: `kfx serve` under load on loopback, against the same model called in process.

For penguin and cnn_vgg_digits (trained at default settings in a new home), one `kfx serve` process;
`--clients` threads send `--batch` test-split rows per request for `--seconds`, and the same
requests go straight to the predictor in this process (no HTTP) for as long. The two are
interleaved, `--rounds` times each; the table has the medians with their spread, p50/p99
latency, errors and the server's resident memory before and after. In the last HTTP round of
penguin a new version is pushed (a copy of the served one under a newer number) and the run
counts the requests that failed across the swap. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests
from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import kfx_run, split_rows

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))
BEGIN, END = "<!-- bench:serve:begin -->", "<!-- bench:serve:end -->"
TASKS = {
    "penguin": "species",
    "cnn_vgg_digits": "label",
}  # task → label column (left out of requests)


def start_server(home: Path, task: str):
    """A `kfx serve TASK --port 0` process and its URL."""
    process = subprocess.Popen(
        [KFX, "--home", str(home), "serve", task, "--port", "0", "--poll", "0.5"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    if " at " not in line:
        sys.exit(f"kfx serve {task} did not start: {line!r}")
    return process, line.split(" at ")[1].split(" ")[0]


def http_round(url: str, bodies: list[dict], clients: int, seconds: float, during=None) -> dict:
    """`clients` threads posting `bodies` in turn for `seconds`: latencies and errors."""
    latencies: list[float] = []
    errors: list[int] = []
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client(offset: int):
        session = requests.Session()
        i = offset
        while time.monotonic() < deadline:
            start = time.monotonic()
            response = session.post(f"{url}:predict", json=bodies[i % len(bodies)], timeout=60)
            took = time.monotonic() - start
            with lock:
                (latencies if response.status_code == 200 else errors).append(
                    took if response.status_code == 200 else response.status_code
                )
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if during is not None:
        time.sleep(seconds / 2)
        during()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors, "wall": time.monotonic() - started}


def in_process_round(run, frames: list, seconds: float) -> dict:
    """The same requests through the predictor in this process, one after another."""
    latencies = []
    deadline, started, i = time.monotonic() + seconds, time.monotonic(), 0
    while time.monotonic() < deadline:
        start = time.monotonic()
        run(frames[i % len(frames)], "bench")
        latencies.append(time.monotonic() - start)
        i += 1
    return {"latencies": latencies, "errors": [], "wall": time.monotonic() - started}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def spread(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f}, n={len(values)})"
    )


def bench_task(home: Path, task: str, args, rows_per_request: int) -> dict:
    import pandas as pd

    from pipelines import kinds, serving, tasks
    from pipelines.home import Home

    summary = kfx_run(home, task)
    if not summary.get("pushed_model"):
        sys.exit(f"{task}: nothing pushed ({summary.get('gate')})")
    label = TASKS[task]
    rows = [
        {k: v for k, v in r.items() if k != label and v is not None}
        for r in split_rows(home, task, summary["run_id"], "test")
    ]
    batches = [rows[i : i + rows_per_request] for i in range(0, len(rows), rows_per_request)]
    batches = [b for b in batches if len(b) == rows_per_request]
    bodies = [{"instances": b} for b in batches]
    to_cell = {list: lambda v: " ".join(str(x) for x in v)}
    frames = [
        pd.DataFrame([{k: to_cell.get(type(v), str)(v) for k, v in r.items()} for r in b])
        for b in batches
    ]
    spec = tasks.get(task, Home(home))
    version_dir = Path(summary["pushed_model"])
    manifest, run = serving.loader(kinds.of(spec))(version_dir)
    process, url = start_server(home, task)
    memory = psutil.Process(process.pid)
    result = {"task": task, "rows": rows_per_request, "http": [], "local": [], "swap": None}
    try:
        http_round(url, bodies, args.clients, 3)  # warm-up: both sides have traced the model
        in_process_round(run, frames, 3)
        result["rss_before"] = memory.memory_info().rss
        for round_ in range(args.rounds):
            swap = None
            if task == "penguin" and round_ == args.rounds - 1:

                def swap():
                    newer = version_dir.parent / str(int(version_dir.name) + 1)
                    shutil.copytree(version_dir, newer.with_name(newer.name + ".tmp"))
                    newer.with_name(newer.name + ".tmp").rename(newer)  # pushed in one step

            measured = http_round(url, bodies, args.clients, args.seconds, swap)
            result["http"].append(measured)
            result["local"].append(in_process_round(run, frames, args.seconds))
            if swap is not None:
                status = requests.get(url, timeout=10).json()["model_version_status"][0]
                result["swap"] = {
                    "errors": len(measured["errors"]),
                    "served_after": status["version"],
                    "pushed": str(int(version_dir.name) + 1),
                }
        result["rss_after"] = memory.memory_info().rss
    finally:
        process.terminate()
        process.wait(30)
    return result


def rows_of(result: dict, clients: int) -> list[str]:
    rate = [len(r["latencies"]) / r["wall"] for r in result["http"]]
    local = [len(r["latencies"]) / r["wall"] for r in result["local"]]
    ratio = [h / loc for h, loc in zip(rate, local, strict=True)]
    every = [x for r in result["http"] for x in r["latencies"]]
    errors = sum(len(r["errors"]) for r in result["http"])
    mib = 2**20
    memory = f"{result['rss_before'] / mib:.0f} → {result['rss_after'] / mib:.0f}"
    return [
        f"| {result['task']} | {result['rows']} | {clients} | {spread(rate)} | {spread(local)} "
        f"| {spread(ratio, 2)} | {percentile(every, 0.5) * 1000:.1f} "
        f"| {percentile(every, 0.99) * 1000:.1f} | {errors} | {memory} |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="rows per request")
    args = parser.parse_args()
    started, load = time.monotonic(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        results = [bench_task(Path(tmp), task, args, args.batch) for task in TASKS]
    table = [
        "| task | rows/request | clients | HTTP requests/s | in-process calls/s | ratio "
        "| p50 ms | p99 ms | errors | server RSS MiB (before → after) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        table += rows_of(result, args.clients)
    swap = next(r["swap"] for r in results if r["swap"])
    section = "\n".join(
        [
            BEGIN,
            "## Serving: `kfx serve` under load (tests/bench/bench_serve.py)",
            "",
            f"{datetime.date.today()}, {cpu_model()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}; {args.rounds} interleaved rounds of {args.seconds:g} s "
            f"each side; {args.clients} client threads on loopback, {args.batch} test-split rows "
            f"per request; medians (min–max). The in-process side calls the same predictor "
            f"with the same rows, one call at a time; the ratio is HTTP over in-process in "
            f"the same round. Wall time of the whole script: {time.monotonic() - started:.0f} s; "
            f"1-minute load average at its start {load:.1f} (other work shared the cores).",
            "",
            *table,
            "",
            f"Hot swap: version {swap['pushed']} was pushed halfway through penguin's last HTTP "
            f"round; {swap['errors']} requests failed in that round and the server answered "
            f"with version {swap['served_after']} afterwards.",
            END,
        ]
    )
    write_section(args.out, BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()
