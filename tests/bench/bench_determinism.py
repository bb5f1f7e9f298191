"""`make bench`: does a fixed seed give the same metric again? One task per pipeline kind.

Each task runs `--repeats` times in one home: a first run, then `--no-cache` runs that
execute every component again on the same span with the same seed (RL tasks simulate their
environment again). For each task the section lists every run's test metric, the largest
difference between two runs (the tolerance the e2e tests allow for that kind) and how many
distinct sets of trained weights there were (a SHA-256 over the Trainer output's
`variables.data-*` files; 1 means bit-identical weights).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import shutil
import sys
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import ROOT, failed, kfx_run, median_spread, node_artifact

BEGIN, END = "<!-- bench:determinism:begin -->", "<!-- bench:determinism:end -->"
HOME = ROOT / ".bench" / "determinism"
RL = ["--set", "learning_starts=500", "--set", "eval_every=1000", "--eval-episodes", "20"]
CASES = (  # (kind, task, arguments): small budgets, the kinds' code paths at full size
    ("supervised, tabular", "penguin", ["--train-steps", "300"]),
    ("supervised, image (conv + augmentation)", "cnn_vgg_digits", ["--train-steps", "300"]),
    ("rl (DQN in gymnasium)", "cartpole_dqn", ["--train-steps", "5000", *RL, "--threshold", "5"]),
    (
        "offline_rl (Decision Transformer)",
        "cartpole_dt",
        ["--train-steps", "200", "--eval-episodes", "10", "--threshold", "5"],
    ),
)


def weights_digest(home: Path, task: str, run_id: str) -> str:
    """SHA-256 over the variables of the model the run's trainer wrote ('' if none)."""
    from pipelines import ids

    model = node_artifact(home, task, run_id, (ids.TRAINER, ids.RL_TRAINER))
    digest = hashlib.sha256()
    files = sorted(Path(model.uri).rglob("variables.data-*"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12] if files else ""


def measure(task: str, extra: list[str], repeats: int) -> dict:
    """`repeats` runs of `task`: the first as is, the others with --no-cache."""
    runs = []
    for attempt in range(repeats):
        args = extra + (["--no-cache"] if attempt else [])
        run = kfx_run(HOME, task, extra=args)
        run["weights"] = "" if failed(run) else weights_digest(HOME, task, run["run_id"])
        print(f"{task} #{attempt + 1}: {run.get('value')} {run['weights']}", file=sys.stderr)
        runs.append(run)
    return {"task": task, "args": extra, "runs": runs}


def render(results: list[dict], repeats: int) -> str:
    """The BENCHMARKS.md section: one row per kind."""
    rows = [
        "| kind | task and budget | metric of each run | largest difference | distinct "
        "weights | run time |",
        "|---|---|---|---|---|---|",
    ]
    for kind, result in results:
        runs = result["runs"]
        values = [r.get("value") for r in runs]
        if any(failed(r) for r in runs):
            spread, cells = "failed", ", ".join(r.get("error", str(r.get("value"))) for r in runs)
        else:
            spread = f"{max(values) - min(values):.6g}"
            cells = ", ".join(f"{v:.6g}" for v in values)
        args = " ".join(result["args"])
        rows.append(
            f"| {kind} | `{result['task']} {args}` | {runs[0].get('metric', '')} {cells} | "
            f"{spread} | {len({r['weights'] for r in runs})} | "
            f"{median_spread([r['process_s'] for r in runs])} |"
        )
    return "\n".join(
        [
            BEGIN,
            "## Determinism: the same seed, the same span, every component again",
            "",
            f"Command: `make bench` (= `{Path(sys.executable).name} "
            f"tests/bench/bench_determinism.py --repeats {repeats}`), run "
            f"{datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), "
            f"Python {platform.python_version()}, CPU only. One home; per task a first run "
            f"and {repeats - 1} `--no-cache` runs. The largest difference is the tolerance "
            "the e2e tests allow for that kind; distinct weights counts different SHA-256s "
            "of the trained variables (1: bit-identical).",
            "",
            *rows,
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    shutil.rmtree(HOME, ignore_errors=True)
    results = [(kind, measure(task, extra, args.repeats)) for kind, task, extra in CASES]
    section = render(results, args.repeats)
    write_section(args.out, BEGIN, END, section + "\n")
    print(section)
    broken = [r["task"] for _, r in results if any(failed(run) for run in r["runs"])]
    if broken:
        sys.exit(f"bench_determinism: runs failed for {', '.join(broken)}")


if __name__ == "__main__":
    main()
