"""`make bench`: the sequence tasks (forecasting, text) at default settings, with references.

Each forecasting task (a `TaskSpec.naive` forecast) is one `kfx run TASK --json` process at
default settings in a fresh home, as a user runs it; its variants (another recurrent cell,
attention written from scratch) run the same way, each in a fresh home of its own (so no
earlier model is their baseline), and are reported beside it. The gate of
each: test RMSE at most `naive_factor` × the last-value forecast's RMSE on the same test
windows (the ModelGate computes both in the run). Measured here in this run on the same
splits (the run's ExampleGen output), for the notes:

- the seasonal-naive forecast (the value one season before the target: 24 hours, 12
  months), where the task has a season;
- least squares on the same windows (plus an intercept), fitted on the train split and
  scored on the test split: the simple model a transformer should be measured against.

Text tasks (text_transformer) run the same way, gated on the majority class + margin; beside
them, TF-IDF (1-2 grams) + LogisticRegression (scikit-learn) fitted on the run's train split
and scored on its test split, the model a small transformer should be measured against.

The section is written first; the script exits 1 naming every task whose default run was
not blessed or failed.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import shutil
import sys
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import ROOT, failed, kfx_run, split_rows

BEGIN, END = "<!-- bench:sequence:begin -->", "<!-- bench:sequence:end -->"
HOMES = ROOT / ".bench" / "sequence"
TEXT_DATA = "trainers.text_transformer.data"
SEASONS = {"weather_transformer": 24, "stocks_transformer": 12}  # steps per season
VARIANTS = {  # task: the --set of each variant run after its default
    "sine_rnn": (("cell=lstm",), ("cell=simple_rnn",)),
    "weather_transformer": (("attention=scratch",),),
    "text_transformer": (("attention=scratch",),),
}


def forecast_tasks(specs) -> list[str]:
    """The built-in tasks gated on a per-example naive forecast."""
    return sorted(name for name, spec in specs.items() if spec.naive is not None)


def text_tasks(specs) -> list[str]:
    """The built-in tasks on the fine-food reviews."""
    return sorted(name for name, spec in specs.items() if spec.data == TEXT_DATA)


def sequence_tasks(specs) -> list[str]:
    """Every task this script benchmarks (bench_gates leaves them out)."""
    return forecast_tasks(specs) + text_tasks(specs)


def tfidf_logistic(home: Path, task: str, run_id: str) -> dict:
    """{'tfidf': test accuracy, 'test': reviews} of TF-IDF + LogisticRegression, train → test."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    def columns(split):
        rows = split_rows(home, task, run_id, split)
        return [r["review"] for r in rows], [r["score"] for r in rows]

    (x_train, y_train), (x_test, y_test) = columns("train"), columns("test")
    words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    fitted = LogisticRegression(C=3.0, max_iter=2000).fit(words.fit_transform(x_train), y_train)
    return {"tfidf": float(fitted.score(words.transform(x_test), y_test)), "test": len(y_test)}


def references(home: Path, task: str, run_id: str, season: int | None) -> dict:
    """{'least_squares': test RMSE, 'seasonal': test RMSE or None, 'test': windows}."""
    import numpy as np

    def arrays(split):
        rows = split_rows(home, task, run_id, split)
        return np.array([r["window"] for r in rows], float), np.array([r["target"] for r in rows])

    (x_train, y_train), (x_test, y_test) = arrays("train"), arrays("test")
    design = lambda x: np.column_stack([x, np.ones(len(x))])  # noqa: E731
    weights, *_ = np.linalg.lstsq(design(x_train), y_train, rcond=None)
    rmse = lambda p: float(np.sqrt(np.mean((p - y_test) ** 2)))  # noqa: E731
    return {
        "least_squares": rmse(design(x_test) @ weights),
        "seasonal": rmse(x_test[:, -season]) if season else None,
        "last_value": rmse(x_test[:, -1]),
        "test": len(y_test),
    }


def _num(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}g}"


def row(run: dict, refs: dict | None) -> str:
    """One table line: a default run or a variant."""
    label = f"`{run['task']}`" + (f" `{' '.join(run['sets'])}`" if run["sets"] else "")
    timing = f"{_num(run.get('components', {}).get('Trainer'), 3)} | {run['process_s']:.0f}"
    if failed(run):
        return f"| {label} | failed: {run.get('error', '')} | — | — | — | — | **no** | {timing} |"
    check = run["gate"]["checks"][0]
    naive, factor = check["naive"], check["factor"]
    ratio = run["value"] / naive if naive else math.nan
    blessed = "yes" if run["blessed"] else "**no**"
    least = refs and refs["least_squares"]
    seasonal = refs and refs["seasonal"]
    return (
        f"| {label} | {_num(run['value'])} | ≤ {check['threshold']:g} and ≤ {factor:g}× naive "
        f"| {_num(naive)} | {ratio:.3f} | {_num(seasonal)} | {_num(least)} | {blessed} | {timing} |"
    )


def text_row(run: dict, refs: dict | None) -> str:
    """One line of the text table: a default run or a variant."""
    label = f"`{run['task']}`" + (f" `{' '.join(run['sets'])}`" if run["sets"] else "")
    timing = f"{_num(run.get('components', {}).get('Trainer'), 3)} | {run['process_s']:.0f}"
    if failed(run):
        return f"| {label} | failed: {run.get('error', '')} | — | — | — | **no** | {timing} |"
    check = run["gate"]["checks"][0]
    bar = f"≥ {check['threshold']:g} and ≥ naive + {check['margin']:g}"
    blessed = "yes" if run["blessed"] else "**no**"
    tfidf = _num(refs and refs["tfidf"])
    return (
        f"| {label} | {run['value']:.4f} | {bar} | {_num(check['naive'])} | {tfidf} "
        f"| {blessed} | {timing} |"
    )


def text_lines(results: list[dict], specs: dict) -> list[str]:
    """The text table and its notes."""
    table = [
        "| run | test accuracy | gate | majority class (naive) | TF-IDF + LogisticRegression "
        "| blessed | Trainer s | run s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in results:
        table += [text_row(run, r["refs"] if not run["sets"] else None) for run in r["runs"]]
        spec, refs = specs[r["task"]], r["refs"]
        notes.append(f"- `{r['task']}` ({spec.dataset}): {spec.reason}.")
        if refs:
            default = r["runs"][0]["value"]
            verdict = "matches or beats" if default >= refs["tfidf"] else "does **not** match"
            notes.append(
                f"  On the same {refs['test']} test reviews TF-IDF (1-2 grams) + "
                f"LogisticRegression reaches {refs['tfidf']:.4f}; the transformer at default "
                f"settings ({default:.4f}) {verdict} it."
            )
    return ["### Text", "", *table, "", *notes]


def render(results: list[dict], specs: dict, failures: list[str]) -> str:
    """The BENCHMARKS.md section."""
    loads = [run["load"] for r in results for run in r["runs"]]
    texts = [r for r in results if r["task"] in text_tasks(specs)]
    results = [r for r in results if r not in texts]
    table = [
        "| run | test RMSE | gate | last-value RMSE (naive) | RMSE / naive | seasonal naive "
        "| least squares | blessed | Trainer s | run s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in results:
        table += [row(run, r["refs"] if not run["sets"] else None) for run in r["runs"]]
        spec, refs = specs[r["task"]], r["refs"]
        notes.append(f"- `{r['task']}` ({spec.dataset}): {spec.reason}.")
        if refs:
            notes.append(
                f"  On its {refs['test']} test windows: last value {refs['last_value']:.4g}, "
                f"least squares {refs['least_squares']:.4g} "
                f"({refs['least_squares'] / refs['last_value']:.3f}× the last value)"
                + (
                    f", seasonal naive ({SEASONS[r['task']]} steps) {refs['seasonal']:.4g}"
                    if refs["seasonal"] is not None
                    else ""
                )
                + "."
            )
            default = r["runs"][0]["value"]
            verdict = "beats" if default < refs["least_squares"] else "does **not** match"
            notes.append(
                f"  The model at default settings ({default:.4g}) {verdict} least squares."
            )
    lines = [
        BEGIN,
        "## Sequence tasks: forecasting against the last value, text against TF-IDF",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_sequence.py`), "
        f"run {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), "
        f"Python {platform.python_version()}, CPU only; 1-minute load average "
        f"{min(loads):.1f}–{max(loads):.1f} when the runs started. One fresh home and one "
        "`kfx run TASK --json` process per row; variants are reported, not required. Splits "
        "are time ranges of every series (train the first 70% of its windows, eval the next "
        "15% for early stopping, test the last 15% for every value here).",
        "",
        "### Forecasting",
        "",
        *table,
        "",
        "Notes (references measured in this run on the same test windows):",
        "",
        *notes,
        "",
        *text_lines(texts, specs),
        "",
        "Result: "
        + (
            "every task blessed at default settings."
            if not failures
            else "**failed**: " + "; ".join(failures) + "."
        ),
        END,
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    import pipelines  # noqa: F401  (tf_keras before TensorFlow loads)
    from pipelines import tasks

    specs = tasks.builtin()
    shutil.rmtree(HOMES, ignore_errors=True)
    results, failures = [], []
    for task in sequence_tasks(specs):
        runs = [kfx_run(HOMES / task, task)]
        refs = None
        if failed(runs[0]):
            failures.append(f"{task}: the run failed ({runs[0].get('error', '')})")
        else:
            run_id = runs[0]["run_id"]
            refs = (
                tfidf_logistic(HOMES / task, task, run_id)
                if task in text_tasks(specs)
                else references(HOMES / task, task, run_id, SEASONS.get(task))
            )
            if not runs[0]["blessed"]:
                failures.append(f"{task}: not blessed ({runs[0]['gate']['reason']})")
        for i, sets in enumerate(VARIANTS.get(task, ())):
            runs.append(kfx_run(HOMES / f"{task}-variant{i}", task, sets))
        for run in runs:
            print(
                f"{task} {run['sets']}: {run.get('value')} blessed {run.get('blessed')}",
                file=sys.stderr,
            )
        results.append({"task": task, "runs": runs, "refs": refs})
    section = render(results, specs, failures)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_sequence failed:\n" + "\n".join(f"  {f}" for f in failures))


if __name__ == "__main__":
    main()
