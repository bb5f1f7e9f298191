"""`make bench`: accuracy and Trainer time per learning-rate schedule and precision.

Two parts:
1. Pipelines: `kfx run TASK --json --set lr_schedule=S` for every schedule (float32), then
   `--set precision=mixed_bfloat16`, on penguin and on iris (a CSV task through the tabular
   trainer), default train steps. One home per task, so only Trainer, Evaluator and Pusher
   run again; each run is its own process. Reported: the Evaluator's accuracy and the
   Trainer component's wall time (data, fit, export).
2. Precision alone: training steps per second of a small (penguin-sized) and a wide MLP on
   random data, float32 vs mixed_bfloat16, in this process, after a warm-up.

Results replace this benchmark's section of BENCHMARKS.md. The machine may be shared: the
load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import split_rows

ROOT = Path(__file__).resolve().parents[2]
KFX = str(Path(sys.executable).with_name("kfx"))
BEGIN, END = "<!-- bench:trainer-options:begin -->", "<!-- bench:trainer-options:end -->"
SCHEDULES = ("constant", "exponential", "piecewise", "one_cycle", "plateau")
MICRO = {"penguin-sized MLP (2×16)": (16, 2, 32), "wide MLP (3×512, batch 256)": (512, 3, 256)}


def kfx(home: Path, *args: str) -> dict:
    """One `kfx` process; its JSON summary."""
    proc = subprocess.run(
        [KFX, "--home", str(home), *args, "--json"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"kfx {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def pipelines(base: Path, repeats: int) -> list[dict]:
    """One row per (task, schedule, precision): accuracy and Trainer seconds per repeat."""
    sys.path.insert(0, str(ROOT))
    from tests.fixtures import csvs

    variants = [(s, "float32") for s in SCHEDULES] + [("constant", "mixed_bfloat16")]
    rows = []
    for task in ("penguin", "iris"):
        home = base / task
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        if task == "iris":  # register the CSV task (its first run is not measured)
            kfx(home, "run", "--data", str(csvs.classification(home)), "--label", "variety")
        else:
            kfx(home, "run", task)  # warm the cache of the data components
        for schedule, precision in variants:
            runs = []
            for i in range(repeats):
                sets = ["--set", f"lr_schedule={schedule}", "--set", f"precision={precision}"]
                sets += ["--set", f"seed={42 + i}"]  # a new Trainer run per repeat
                runs.append(kfx(home, "run", task, *sets))
            row = {"task": task, "schedule": schedule, "precision": precision}
            row["accuracy"] = [r["value"] for r in runs]
            row["trainer_s"] = [r["components"]["Trainer"] for r in runs]
            row["load"] = os.getloadavg()[0]
            row["test_rows"] = len(split_rows(home, runs[0]["task"], runs[0]["run_id"], "test"))
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    return rows


def steps_per_second(units: int, layers: int, batch: int, policy: str, steps: int) -> float:
    """Training throughput of an MLP on random data under a dtype policy."""
    import numpy as np
    import tensorflow as tf

    from trainers.common import precision

    tf.keras.utils.set_random_seed(0)
    with precision.policy(policy):
        model = tf.keras.Sequential(
            [tf.keras.layers.Dense(units, activation="relu") for _ in range(layers)]
            + [tf.keras.layers.Dense(3, activation="softmax", dtype="float32")]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(batch * 16, 8)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, batch * 16)
    data = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).repeat()
    model.fit(data, steps_per_epoch=20, epochs=1, verbose=0)  # trace and warm up
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps / (time.perf_counter() - start)


def micro(steps: int, repeats: int) -> list[dict]:
    """Steps per second per model and policy (median of `repeats`, alternating policies)."""
    import statistics

    rows = []
    for label, (units, layers, batch) in MICRO.items():
        got = {"float32": [], "mixed_bfloat16": []}
        for _ in range(repeats):
            for policy in got:
                got[policy].append(steps_per_second(units, layers, batch, policy, steps))
        rows.append({"model": label, **{p: statistics.median(v) for p, v in got.items()}})
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def bf16_instructions() -> str:
    """Which bfloat16 instructions the CPU has (they decide whether bfloat16 pays)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    found = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(found) or "none"


def render(rows: list[dict], micro_rows: list[dict], repeats: int, load: tuple) -> str:
    def figures(values, fmt):
        return " / ".join(format(v, fmt) for v in values)

    n = {r["task"]: r["test_rows"] for r in rows}
    sizes = ", ".join(f"{task} {count} rows" for task, count in n.items())
    steps = " or ".join(f"{1 / count:.3f} ({task})" for task, count in n.items())

    lines = [
        BEGIN,
        "## Trainer options: learning-rate schedules and mixed precision",
        "",
        f"Command: `make bench` (= `python tests/bench/bench_trainer_options.py --repeats "
        f"{repeats}`), run {datetime.date.today().isoformat()} on {os.cpu_count()} cores "
        f"({cpu_model()}), shared with other work (load average at the end: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}), so times are noisy.",
        "Default train steps; each figure is one `kfx run TASK --json --set lr_schedule=S "
        "--set precision=P --set seed=N` process (N = 42, 43, ...); iris is "
        "`tests/fixtures/csvs.py`'s iris CSV through the tabular trainer. Accuracy is the "
        "Evaluator's on the test split; Trainer is the component's wall time (data, fit, "
        f"export). The test splits are small ({sizes}), so one example moves accuracy by "
        f"{steps}: differences of that size are noise.",
        "",
        "| task | lr_schedule | precision | accuracy | Trainer s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['task']} | {r['schedule']} | {r['precision']} | "
            f"{figures(r['accuracy'], '.4f')} | {figures(r['trainer_s'], '.1f')} |"
        )
    lines += [
        "",
        "Precision alone (training steps per second on random data, median of "
        f"{repeats + 1} alternating runs, after warm-up; CPU bfloat16 instructions: "
        f"{bf16_instructions()}):",
        "",
        "| model | float32 | mixed_bfloat16 | bfloat16 / float32 |",
        "|---|---|---|---|",
    ]
    for r in micro_rows:
        ratio = r["mixed_bfloat16"] / r["float32"]
        lines.append(
            f"| {r['model']} | {r['float32']:.0f} | {r['mixed_bfloat16']:.0f} | {ratio:.2f}× |"
        )
    lines += [END]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--micro-steps", type=int, default=300)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import pipelines as _  # noqa: F401  (tf_keras before TensorFlow loads)

    rows = pipelines(ROOT / ".bench" / "trainer-options", args.repeats)
    micro_rows = micro(args.micro_steps, args.repeats + 1)
    section = render(rows, micro_rows, args.repeats, os.getloadavg())
    write_section(args.out, BEGIN, END, section)
    print(section)


if __name__ == "__main__":
    main()
