"""`make bench`: the seq2seq task at default settings, with what its number says and hides.

One `kfx run seq2seq --json` process in a fresh home, as a user runs it, then the variant on
attention written from scratch in a home of its own. The gate: exact match of the greedily
decoded digits on the 2,000 test numbers (none of them a training pair) ≥ its threshold and
≥ the majority answer + margin (the ModelGate computes both in the run). Measured here on
the run's own splits, for the notes:

- the nearest training pair (most words in common, cosine of binary bags of words): a
  model that recalls instead of composing; what a lookup of seen numbers would score;
- the model's exact match by digit count and on round numbers (multiples of 1,000), from
  `kfx predict` on the test split's words (the pushed model, as a user calls it).

The section is written first; the script exits 1 when the default run was not blessed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import KFX, ROOT, failed, kfx_run, split_rows

BEGIN, END = "<!-- bench:seq2seq:begin -->", "<!-- bench:seq2seq:end -->"
HOMES = ROOT / ".bench" / "seq2seq"
TASK = "seq2seq"
VARIANTS = (("attention=scratch",),)


def nearest_pair(home: Path, run_id: str) -> float:
    """Exact match of answering each test number with its most similar training pair."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.neighbors import NearestNeighbors

    train, test = (split_rows(home, TASK, run_id, s) for s in ("train", "test"))
    bags = CountVectorizer(binary=True, token_pattern=r"\S+")
    fitted = NearestNeighbors(n_neighbors=1, metric="cosine").fit(
        bags.fit_transform([r["words"] for r in train])
    )
    _, index = fitted.kneighbors(bags.transform([r["words"] for r in test]))
    answers = np.array([train[i]["digits"] for i in index[:, 0]])
    return float(np.mean(answers == np.array([r["digits"] for r in test])))


def breakdown(home: Path, run_id: str, scratch: Path) -> dict:
    """{group: (exact match, numbers)} of `kfx predict` on the test split's words."""
    import pandas as pd

    rows = split_rows(home, TASK, run_id, "test")
    source, out = scratch / "test.csv", scratch / "predicted.csv"
    pd.DataFrame({"words": [r["words"] for r in rows]}).to_csv(source, index=False)
    subprocess.run(
        [KFX, "--home", str(home), "predict", TASK, "--input", str(source), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    predicted = pd.read_csv(out, dtype=str, keep_default_na=False)["prediction"].tolist()
    truth = [r["digits"] for r in rows]
    groups = {
        "1-3 digits": lambda d: len(d) <= 3,
        "4 digits": lambda d: len(d) == 4,
        "5 digits": lambda d: len(d) == 5,
        "6 digits": lambda d: len(d) == 6,
        "round (multiples of 1,000)": lambda d: int(d) > 0 and int(d) % 1000 == 0,
        "all": lambda d: True,
    }
    found = {}
    for name, member in groups.items():
        pairs = [(p, t) for p, t in zip(predicted, truth, strict=True) if member(t)]
        found[name] = (sum(p == t for p, t in pairs) / max(len(pairs), 1), len(pairs))
    return found


def row(run: dict, nearest: float | None) -> str:
    """One table line: the default run or a variant."""
    label = f"`{run['task']}`" + (f" `{' '.join(run['sets'])}`" if run["sets"] else "")
    timing = f"{run.get('components', {}).get('Trainer', 0):.0f} | {run['process_s']:.0f}"
    if failed(run):
        return f"| {label} | failed: {run.get('error', '')} | — | — | — | **no** | {timing} |"
    check = run["gate"]["checks"][0]
    bar = f"≥ {check['threshold']:g} and ≥ naive + {check['margin']:g}"
    near = "—" if nearest is None else f"{nearest:.4f}"
    blessed = "yes" if run["blessed"] else "**no**"
    return (
        f"| {label} | {run['value']:.4f} | {bar} | {check['naive']:.4f} | {near} | {blessed} "
        f"| {timing} |"
    )


def render(runs: list[dict], nearest: float | None, groups: dict, spec) -> str:
    """The BENCHMARKS.md section."""
    loads = [run["load"] for run in runs]
    default = runs[0]
    lines = [
        BEGIN,
        "## Sequence to sequence: written-out numbers to digits",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_seq2seq.py`), "
        f"run {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), "
        f"Python {platform.python_version()}, CPU only; 1-minute load average "
        f"{min(loads):.1f}–{max(loads):.1f} when the runs started. One fresh home and one "
        f"`kfx run {TASK} --json` process per row; the variant is reported, not required. "
        f"Data: {spec.dataset}; numbers are drawn without replacement, so no eval or test "
        "number is a training pair. Exact match: the greedily decoded digits (the serving "
        "signature's loop) equal the number's, on the test split.",
        "",
        "| run | test exact match | gate | majority answer (naive) | nearest training pair "
        "| blessed | Trainer s | run s |",
        "|---|---|---|---|---|---|---|---|",
        *[row(run, nearest if not run["sets"] else None) for run in runs],
        "",
        f"- Gate: {spec.reason}.",
    ]
    if groups:
        lines += [
            "- The default model's exact match on the test split by kind of number "
            "(`kfx predict` on the test words, the pushed model):",
            "",
            "| test numbers | exact match | numbers |",
            "|---|---|---|",
            *[f"| {name} | {value:.4f} | {count} |" for name, (value, count) in groups.items()],
        ]
    if nearest is not None and not failed(default):
        lines += [
            "",
            f"- A lookup of the most similar training pair scores {nearest:.4f}: the test "
            f"numbers are new, and the model's {default['value']:.4f} comes from composing "
            "the words' values, not from recall.",
        ]
    verdict = (
        "the default run was blessed."
        if not failed(default) and default["blessed"]
        else "**failed**: the default run was not blessed."
    )
    lines += ["", f"Result: {verdict}", END]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    shutil.rmtree(HOMES, ignore_errors=True)
    runs = [kfx_run(HOMES / TASK, TASK)]
    nearest, groups = None, {}
    if not failed(runs[0]):
        nearest = nearest_pair(HOMES / TASK, runs[0]["run_id"])
        if runs[0]["blessed"]:
            groups = breakdown(HOMES / TASK, runs[0]["run_id"], HOMES)
    for i, sets in enumerate(VARIANTS):
        runs.append(kfx_run(HOMES / f"{TASK}-variant{i}", TASK, sets))
    for run in runs:
        print(
            f"{TASK} {run['sets']}: {run.get('value')} blessed {run.get('blessed')}",
            file=sys.stderr,
        )
    section = render(runs, nearest, groups, tasks.builtin()[TASK])
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failed(runs[0]) or not runs[0]["blessed"]:
        sys.exit(f"bench_seq2seq failed: {runs[0].get('error') or runs[0]['gate']['reason']}")


if __name__ == "__main__":
    main()
