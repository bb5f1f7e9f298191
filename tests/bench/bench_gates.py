"""`make bench`: every built-in task at default settings against its gate and its reference.

(The Fashion-MNIST, sequence and speech tasks have their own scripts and sections:
bench_fashion.py, bench_vit.py, bench_distill.py, bench_sequence.py, bench_seq2seq.py,
bench_speech.py.)

Each task runs as one `kfx run TASK --json` process in a fresh home (a task with a
`source_task` gets its source run first in that home), as a user runs it. The table shows,
per gated output (`gate.checks`), the value on the test split, the threshold, the naive
predictor of the same run and the margin, whether the model was blessed, the threshold's
reason (`TaskSpec.reason` / `Output.reason`), Trainer and process seconds and the load.

Beside it, the reference each threshold must sit above (below, for RMSE), measured in this
run on the same splits:

- image tasks on the digits: scikit-learn's LogisticRegression on the raw 64 pixels, fitted
  on the run's train split and scored on its test split (the "simple model");
- distill: the same student on the labels alone (`--set alpha=1`), transfer: the same
  network from scratch (`--set from_scratch=true`), multi_io's rating: the model without
  the price (`--set use_price=false`) — each paired with the task's default over `--seeds`
  (`--set seed=S` for both arms, interleaved, in the task's home after its default run; the
  split is the same for every seed: it hashes the examples); the reference is the mean;
- wide_deep: least squares on the same features, train split → test split;
- cartpole_dt: the return of the policy that made its data (TrajectoryGen's greedy
  episodes, `by_epsilon["0"]`); the gate must be at least DT_SHARE of it;
- cartpole_dqn, cartpole_qnet: the uniformly random policy (the gate's naive value).

The section is written first; then the script exits 1 naming every task that was not
blessed at default settings or whose threshold sits below its reference. `--tasks a,b` runs
only those and prints the section without writing it (a partial run never joins a table).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import statistics
import sys
from pathlib import Path

import bench_sequence  # tests/bench, the script's folder
from report import cpu_model, write_section
from runs import ROOT, failed, kfx_run, node_artifact, sources_of, split_rows

sys.path.insert(0, str(ROOT))
BEGIN, END = "<!-- bench:gates:begin -->", "<!-- bench:gates:end -->"
HOMES = ROOT / ".bench" / "gates"
IMAGE_TASKS = ("digits_mlp", "subclassed", "cnn_vgg_digits", "cnn_resnet_digits", "cnn_digits04")
FASHION_DATA = "trainers.fashion_mnist.data"  # those tasks are bench_fashion.py's
SPEECH_TASK = "speech_transformer"  # bench_speech.py's
# task: (check key, what the other arm is, its --set) of the paired references
PAIRED = {
    "distill": ("accuracy", "same student on the labels alone", ("alpha=1",)),
    "transfer": ("accuracy", "same network from scratch", ("from_scratch=true",)),
    "transfer_digits": ("accuracy", "same network from scratch", ("from_scratch=true",)),
    "multi_io": ("rating/rmse", "same model without the price (text only)", ("use_price=false",)),
}
DT_SHARE = 0.95  # cartpole_dt's gate must be at least this share of its data policy's return


@dataclasses.dataclass
class Reference:
    """What one check's threshold must sit beyond, and the measurement behind it."""

    key: str
    """The check it applies to ('accuracy', 'rating/rmse', ...)."""
    what: str
    value: float | None
    """The reference's metric value (None: it could not be measured)."""
    bar: float | None
    """Where the threshold must be at or beyond (the value, or a share of it)."""
    higher_is_better: bool
    detail: list[str] = dataclasses.field(default_factory=list)
    """Lines for the section's notes (per-seed values)."""
    default: float | None = None
    """Paired references: the task's default arm, mean over the same seeds."""
    examples: int = 0
    """Accuracy on a known test split: its size, so threshold and reference compare as counts
    of correct examples (0: compare the values)."""

    def beats(self, value: float | None) -> bool:
        """Whether the reference itself is at least as good as `value` (the task's default)."""
        if value is None or self.value is None:
            return False
        return self.value >= value if self.higher_is_better else self.value <= value

    def violated(self, threshold: float | None) -> str:
        """Why the threshold does not sit beyond the reference ('' if it does)."""
        if threshold is None:
            return ""
        if self.bar is None:
            return f"{self.key}: the reference ({self.what}) could not be measured"
        if self.examples:  # values move in steps of 1/examples: compare correct answers
            needed = math.ceil(threshold * self.examples - 1e-9)
            reached = round(self.bar * self.examples)
            if needed < reached:
                return (
                    f"{self.key} threshold {threshold:g} asks {needed} of {self.examples} test "
                    f"examples right; the reference gets {reached}"
                )
            return ""
        if self.higher_is_better and threshold < self.bar:
            return f"{self.key} threshold {threshold:g} is below the reference bar {self.bar:.4f}"
        if not self.higher_is_better and threshold > self.bar:
            return f"{self.key} threshold {threshold:g} is above the reference bar {self.bar:.4f}"
        return ""


def logistic_regression(home: Path, task: str, run_id: str) -> tuple[float, int]:
    """(test accuracy, test examples) of LogisticRegression on the raw pixels, fitted on the
    run's train split."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    def arrays(split):
        rows = split_rows(home, task, run_id, split)
        return np.array([r["pixels"] for r in rows], float), np.array([r["label"] for r in rows])

    x_train, y_train = arrays("train")
    x_test, y_test = arrays("test")
    model = LogisticRegression(max_iter=5000).fit(x_train, y_train)
    return float(model.score(x_test, y_test)), len(y_test)


def least_squares(home: Path, run_id: str) -> tuple[float, int, int]:
    """(test RMSE, train rows, test rows) of least squares on wide_deep's own split."""
    import pandas as pd

    from trainers.wide_deep.baseline import linear_rmse

    train = pd.DataFrame(split_rows(home, "wide_deep", run_id, "train"))
    test = pd.DataFrame(split_rows(home, "wide_deep", run_id, "test"))
    return linear_rmse(train, test), len(train), len(test)


def data_policy_return(home: Path, run_id: str) -> tuple[float, dict]:
    """cartpole_dt: the greedy (ε = 0) return of its data policy, from trajectory_stats.json."""
    from components.trajectory_gen import STATS_FILE
    from pipelines import ids

    examples = node_artifact(home, "cartpole_dt", run_id, [ids.TRAJECTORY_GEN])
    stats = json.loads(Path(examples.uri, STATS_FILE).read_text())
    return float(stats["by_epsilon"]["0"]["mean_return"]), stats


def metric(summary: dict, key: str) -> float | None:
    """The value of check `key` in a run summary (None: the run failed)."""
    return None if failed(summary) else (summary.get("metrics") or {}).get(key)


def paired(home: Path, task: str, seeds: list[int], runs: list[dict]) -> Reference:
    """The task's default and its reference arm over `seeds`, interleaved, in `home`."""
    key, what, sets = PAIRED[task]
    higher = not key.endswith("rmse")
    pairs = []
    for i, seed in enumerate(seeds):
        arms = {}
        order = ("default", "reference") if i % 2 == 0 else ("reference", "default")
        for arm in order:  # alternate which arm runs first, so load drift does not favour one
            extra = (f"seed={seed}",) + (sets if arm == "reference" else ())
            result = kfx_run(home, task, extra)
            result["role"] = f"{arm} arm, seed {seed}"
            runs.append(result)
            arms[arm] = metric(result, key)
            print(f"  {task} {arm} seed {seed}: {arms[arm]}", file=sys.stderr)
        pairs.append((seed, arms["default"], arms["reference"]))
    complete = [(s, a, b) for s, a, b in pairs if a is not None and b is not None]
    sets_text = " ".join(f"`--set {s}`" for s in sets)
    if len(complete) < len(pairs):
        return Reference(key, f"{what} ({sets_text})", None, None, higher, ["a paired run failed"])
    default_mean = statistics.mean(a for _, a, _ in complete)
    ref_mean = statistics.mean(b for _, _, b in complete)
    diffs = [a - b for _, a, b in complete]
    detail = [
        f"**{task}** vs the {what} ({sets_text}), {key} on the test split, paired by "
        f"`--set seed=S`:",
        "",
        f"| seed | {task} (default) | {what} | difference |",
        "|---|---|---|---|",
        *(f"| {s} | {a:.4f} | {b:.4f} | {a - b:+.4f} |" for s, a, b in complete),
        f"| mean | {default_mean:.4f} | {ref_mean:.4f} | {statistics.mean(diffs):+.4f} "
        f"(per seed {min(diffs):+.4f} to {max(diffs):+.4f}) |",
    ]
    name = f"{what}: {ref_mean:.4f} (mean of {len(complete)} seeds; default {default_mean:.4f})"
    return Reference(key, name, ref_mean, ref_mean, higher, detail, default=default_mean)


def reference(task: str, home: Path, main: dict, seeds: list[int], runs: list) -> Reference | None:
    """The reference of `task` measured in its home after its default run (None: it has none)."""
    if failed(main):
        return None
    run_id = main["run_id"]
    if task in IMAGE_TASKS:
        value, n_test = logistic_regression(home, task, run_id)
        what = (
            f"simple model (LogisticRegression, raw 64 pixels): {value:.4f} "
            f"({round(value * n_test)} of {n_test})"
        )
        return Reference("accuracy", what, value, value, True, examples=n_test)
    if task in PAIRED:
        return paired(home, task, seeds, runs)
    if task == "wide_deep":
        value, n_train, n_test = least_squares(home, run_id)
        what = f"least squares, same features ({n_train} train → {n_test} test cars): {value:.4f}"
        return Reference("mpg/rmse", what, value, value, False)
    if task == "cartpole_dt":
        value, stats = data_policy_return(home, run_id)
        episodes = stats["by_epsilon"]["0"]["episodes"]
        what = (
            f"data policy (pushed cartpole_dqn, ε = 0, {episodes} episodes): {value:.1f}; "
            f"bar {DT_SHARE:g} × that"
        )
        return Reference("mean_return", what, value, DT_SHARE * value, True)
    if main.get("gate", {}).get("naive") is not None and main["metric"] == "mean_return":
        naive = main["gate"]["naive"]
        return Reference("mean_return", f"uniformly random policy: {naive:.1f}", naive, naive, True)
    return None


def run_task(task: str, seeds: list[int]) -> dict:
    """Sources, the task at defaults, then its reference, all in a fresh home."""
    home = HOMES / task
    shutil.rmtree(home, ignore_errors=True)
    runs = []
    for source in sources_of(task):
        result = kfx_run(home, source)
        result["role"] = f"source of {task}"
        runs.append(result)
        print(
            f"  source {source}: {result.get('value')} blessed {result.get('blessed')}",
            file=sys.stderr,
        )
    main = kfx_run(home, task)
    main["role"] = "default"
    print(
        f"{task}: {main.get('value')} blessed {main.get('blessed')} ({main['process_s']:.0f} s)",
        file=sys.stderr,
    )
    ref = reference(task, home, main, seeds, runs)
    return {"task": task, "main": main, "reference": ref, "runs": runs}


def _num(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def rows(result: dict, spec) -> list[str]:
    """One table row per check of the task's gate (one for a run that failed)."""
    task, main, ref = result["task"], result["main"], result["reference"]
    trainer = main.get("components", {})
    trainer_s = trainer.get("Trainer", trainer.get("RLTrainer"))
    timing = f"{_num(trainer_s, 1)} | {main['process_s']:.1f} | {main['load']:.1f}"
    if failed(main):
        return [
            f"| `{task}` | — | failed (exit {main['code']}: {main.get('error', '')}) "
            f"| — | — | — | — | **no** | — | {timing} |"
        ]
    outputs = {o.key: o for o in spec.scored}
    found = []
    for check in main["gate"]["checks"]:
        key, higher = check["key"], check["higher_is_better"]
        digits = 1 if key == "mean_return" else 4
        threshold = check["threshold"]
        bar = "reported only" if threshold is None else f"{'≥' if higher else '≤'} {threshold:g}"
        refers = ref.what if ref is not None and ref.key == key else "—"
        output = outputs.get(key)
        why = (output.reason if output else "") or (
            "training aid, not gated" if threshold is None else "—"
        )
        blessed = "yes" if main["blessed"] else "**no**"
        found.append(
            f"| `{task}` | {key} | {_num(check['value'], digits)} | {bar} "
            f"| {_num(check['naive'], digits)} | {check['margin']:g} | {refers} | {blessed} "
            f"| {why} | {timing} |"
        )
    return found


def gate_table(results: list[dict], specs: dict) -> list[str]:
    """The markdown table of every task's gate checks, with its header."""
    table = [
        "| task | check | test value | threshold | naive | margin | reference | blessed "
        "| why this threshold | Trainer s | run s | load at start |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        table += rows(result, specs[result["task"]])
    return table


def refused_rightly(result: dict) -> str:
    """Why a task not blessed at defaults was refused rightly ('' if it was not).

    A paired reference that is at least as good as the task's default over the same seeds
    means the technique does not pay off here: the gate did its job.
    """
    main, ref = result["main"], result["reference"]
    if failed(main) or main["blessed"] or ref is None or not ref.beats(ref.default):
        return ""
    return (
        f"{result['task']}: refused at default settings, as it should be: its default "
        f"({ref.default:.4f}) does not beat the {ref.what.split(':')[0]} ({ref.value:.4f}), "
        "mean over the same seeds"
    )


def problems(result: dict, spec) -> list[str]:
    """Why this task fails the benchmark: not blessed (and no better than its reference would
    justify), or a threshold short of its reference."""
    task, main, ref = result["task"], result["main"], result["reference"]
    found = []
    if failed(main):
        found.append(f"{task}: the run failed ({main.get('error', '')})")
    elif not main["blessed"] and not refused_rightly(result):
        found.append(f"{task}: not blessed at default settings ({main['gate']['reason']})")
    if ref is not None:
        thresholds = {o.key: o.threshold for o in spec.scored}
        why = ref.violated(thresholds.get(ref.key))
        if why:
            found.append(f"{task}: {why} ({ref.what})")
    for run in result["runs"]:
        if failed(run):
            found.append(f"{task}: {run['role']} run failed ({run.get('error', '')})")
    return found


def render(results: list[dict], specs: dict, seeds: list[int], failures: list[str]) -> str:
    """The BENCHMARKS.md section."""
    loads = [r["main"]["load"] for r in results]
    table = gate_table(results, specs)
    notes = []
    for result in results:
        ref = result["reference"]
        if ref is not None and ref.detail:
            notes += ["", *ref.detail]
    sources = [
        f"`{r['task']}` {_num(r.get('value'))} "
        f"({'blessed' if r.get('blessed') else 'not blessed'}, in `{res['task']}`'s home)"
        for res in results
        for r in res["runs"]
        if r["role"].startswith("source")
    ]
    lines = [
        BEGIN,
        "## Gates: every task at default settings, on the test split",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_gates.py "
        f"--seeds {' '.join(map(str, seeds))}`), run {datetime.date.today().isoformat()} on "
        f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}; the "
        f"1-minute load average was {min(loads):.1f}–{max(loads):.1f} when the tasks started "
        "(a shared machine: wall times are noisy).",
        "Each task is one `kfx run TASK --json` process in a fresh home at default settings "
        "(a task built on another task's pushed model gets that task run first in its home). "
        "*test value*, *naive* and *blessed* are the gate's (`gate.checks`): the model's metric "
        "on the test split (15% of the data, never seen by a training decision), the naive "
        "predictor of the same run on the same split (majority class / training mean; for RL a "
        "uniformly random policy on the same seeded episodes) and the margin it must be beaten "
        "by. *reference* is what the threshold must sit above (below, for RMSE), measured in "
        "this run (see the notes); *why this threshold* is the task's declared reason. "
        "*Trainer s* is the training component's wall time, *run s* the whole process.",
        "",
        *table,
        "",
        "Notes (measured in this run):",
        "",
        "- The simple model is scikit-learn's `LogisticRegression(max_iter=5000)` on the raw "
        "pixels of the run's ImportExampleGen train split, scored on its test split. An "
        "accuracy threshold sits beyond it when it asks at least as many correct test images "
        "as the simple model gets (accuracy moves in steps of one image).",
        f"- Paired references: each seed runs both arms with `--set seed=S` in the task's home "
        f"after its default run, alternating which arm goes first; the reference is the mean "
        f"of its arm over seeds {', '.join(map(str, seeds))}.",
        f"- cartpole_dt's bar is {DT_SHARE:g} × its data policy's greedy return.",
        "- Source runs: " + ("; ".join(sources) or "none") + ".",
        *(f"- {why}." for why in map(refused_rightly, results) if why),
        *notes,
        "",
        "Result: "
        + (
            "every threshold beyond its reference; every task blessed at default settings "
            "except those refused rightly (above)."
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
    parser.add_argument("--tasks", default="", help="comma-separated subset; printed, not written")
    parser.add_argument(
        "--render",
        type=Path,
        help="write the section again from a run's results.json (no new measurement)",
    )
    args = parser.parse_args()
    if len(args.seeds) < 3:
        parser.error("--seeds: a paired reference needs at least 3 seeds")
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    specs = tasks.builtin()
    theirs = set(bench_sequence.sequence_tasks(specs))  # bench_fashion's and bench_sequence's
    theirs.add("seq2seq")  # bench_seq2seq's
    theirs.add(SPEECH_TASK)  # bench_speech's
    every = [n for n, s in specs.items() if s.data != FASHION_DATA and n not in theirs]
    wanted = [t.strip() for t in args.tasks.split(",") if t.strip()] or every
    unknown = [t for t in wanted if t not in specs]
    if unknown:
        parser.error(f"--tasks: {', '.join(unknown)} not built-in; known: {', '.join(specs)}")
    if args.render:
        results = [
            {**r, "reference": r["reference"] and Reference(**r["reference"])}
            for r in json.loads(args.render.read_text())
        ]
        failures = [p for r in results for p in problems(r, specs[r["task"]])]
        write_section(args.out, BEGIN, END, render(results, specs, args.seeds, failures))
        return
    results = [run_task(task, args.seeds) for task in wanted]
    failures = [p for r in results for p in problems(r, specs[r["task"]])]
    section = render(results, specs, args.seeds, failures)
    HOMES.mkdir(parents=True, exist_ok=True)
    record = [
        {**r, "reference": r["reference"] and dataclasses.asdict(r["reference"])} for r in results
    ]
    name = "results-partial.json" if args.tasks else "results.json"
    (HOMES / name).write_text(json.dumps(record, indent=1, default=str))
    if args.tasks:
        print("(--tasks: a partial run; the section is not written)", file=sys.stderr)
    else:
        write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_gates failed:\n" + "\n".join(f"  {f}" for f in failures))


if __name__ == "__main__":
    main()
