"""`make bench`: speech_transformer at default settings, beside a linear model on the same input.

One `kfx run speech_transformer --json` process at default settings in a fresh home, as a
user runs it: it synthesises the spoken digits (espeak-ng, sox), trains and is gated on the
test split, whose six voices neither training nor checkpoint selection heard. The gate:
accuracy at least the threshold and the majority class (the ModelGate's naive predictor,
computed in the run) plus the margin. Measured here in this run, on the same splits (the
run's ExampleGen output):

- LogisticRegression (scikit-learn) on the same log-mel spectrograms the model computes
  (`model.log_mel`, standardised), fitted on the train split and scored on the test split:
  the simple model the transformer should be measured against;
- the generator's wall time and its determinism: the clips are synthesised once more in
  this process and must be the very bytes the run's ExampleGen holds.

The section is written first; the script exits 1 when the run was not blessed, failed, or
the generator made other bytes.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from report import cpu_model, write_section  # tests/bench, the script's folder
from runs import ROOT, failed, kfx_run, split_rows

sys.path.insert(0, str(ROOT))
BEGIN, END = "<!-- bench:speech:begin -->", "<!-- bench:speech:end -->"
HOME = ROOT / ".bench" / "speech"
TASK = "speech_transformer"


def arrays(home: Path, run_id: str, split: str):
    """(waveforms float32 [N, samples], words [N]) of one split as the run's ExampleGen wrote it."""
    import numpy as np

    rows = split_rows(home, TASK, run_id, split)
    return np.array([r["waveform"] for r in rows], np.float32), [r["digit"] for r in rows]


def logistic_log_mel(home: Path, run_id: str) -> dict:
    """{'logistic': test accuracy, 'test': clips} of LogisticRegression on log-mel, train → test."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from trainers.speech_transformer.model import log_mel

    def features(split):
        waves, words = arrays(home, run_id, split)
        return log_mel(waves).numpy().reshape(len(waves), -1), words

    (x_train, y_train), (x_test, y_test) = features("train"), features("test")
    fitted = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    fitted.fit(x_train, y_train)
    return {"logistic": float(fitted.score(x_test, y_test)), "test": len(y_test)}


def generation(home: Path, run_id: str) -> dict:
    """{'seconds': to synthesise every clip here, 'same': whether they are the run's bytes}."""
    import numpy as np

    from trainers.speech_transformer import data

    digest = lambda waves, words: sorted(  # noqa: E731  (ExampleGen may reorder a split)
        hashlib.sha256(w.tobytes() + word.encode()).hexdigest()
        for w, word in zip(waves, words, strict=True)
    )
    with tempfile.TemporaryDirectory() as folder:
        start = time.monotonic()
        data.write(Path(folder))
        seconds = time.monotonic() - start
        same = True
        for split in ("train", "eval", "test"):
            rows = list(data.read(Path(folder) / split / data.FILENAME))
            mine = digest([np.asarray(w) for w, _ in rows], [word for _, word in rows])
            same &= mine == digest(*arrays(home, run_id, split))
    return {"seconds": seconds, "same": same}


def render(run: dict, refs: dict | None, made: dict | None, spec, failures: list[str]) -> str:
    """The BENCHMARKS.md section."""
    trainer = run.get("components", {}).get("Trainer")
    timing = f"{trainer:.0f}" if trainer is not None else "—"
    if failed(run):
        line = f"| `{TASK}` | failed: {run.get('error', '')} | — | — | — | **no** | {timing} | —"
    else:
        check = run["gate"]["checks"][0]
        bar = f"≥ {check['threshold']:g} and ≥ naive + {check['margin']:g}"
        blessed = "yes" if run["blessed"] else "**no**"
        logistic = f"{refs['logistic']:.4f}" if refs else "—"
        line = (
            f"| `{TASK}` | {run['value']:.4f} | {bar} | {check['naive']:.4f} | {logistic} "
            f"| {blessed} | {timing} | {run['process_s']:.0f}"
        )
    line += f" | {made['seconds']:.0f} |" if made else " | — |"
    from trainers.speech_transformer import data

    voices = {k: len({c.speaker for c in v}) for k, v in data.splits().items()}
    notes = [f"- `{TASK}` ({spec.dataset}): {spec.reason}."]
    if refs and not failed(run):
        verdict = "beats" if run["value"] > refs["logistic"] else "does **not** beat"
        notes.append(
            f"  On the same {refs['test']} test clips (six voices never heard in training) "
            f"LogisticRegression on the standardised log-mel spectrograms reaches "
            f"{refs['logistic']:.4f}; the transformer at default settings ({run['value']:.4f}) "
            f"{verdict} it."
        )
    if made:
        notes.append(
            f"  Synthesising all clips again in the bench process took {made['seconds']:.0f} s "
            f"and gave {'the same' if made['same'] else '**other**'} bytes as the run's "
            "ExampleGen holds (the generator is deterministic)."
        )
    lines = [
        BEGIN,
        "## Speech: spoken digits on held-out voices",
        "",
        f"Command: `make bench` (= `{Path(sys.executable).name} tests/bench/bench_speech.py`), "
        f"run {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({cpu_model()}), "
        f"Python {platform.python_version()}, CPU only; 1-minute load average "
        f"{run['load']:.1f} when the run started. One fresh home and one `kfx run {TASK} "
        "--json` process, which also synthesises the data (espeak-ng, sox). Splits are by "
        f"voice: {voices['train']} train, {voices['eval']} eval (early stopping, checkpoints), "
        f"{voices['test']} test (every value here). The 40 train-only voices were added after "
        "a run on 18 training voices reached 0.8625 on these test voices: the figure below "
        "is a second look at the same test split, not a first.",
        "",
        "| run | test accuracy | gate | majority class (naive) | log-mel + LogisticRegression "
        "| blessed | Trainer s | run s | generation s |",
        "|---|---|---|---|---|---|---|---|---|",
        line,
        "",
        "Notes (references measured in this run on the same test clips):",
        "",
        *notes,
        "",
        "Result: "
        + (
            "blessed at default settings."
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

    spec = tasks.builtin()[TASK]
    shutil.rmtree(HOME, ignore_errors=True)
    run = kfx_run(HOME, TASK)
    refs = made = None
    failures = []
    if failed(run):
        failures.append(f"{TASK}: the run failed ({run.get('error', '')})")
    else:
        refs = logistic_log_mel(HOME, run["run_id"])
        made = generation(HOME, run["run_id"])
        if not run["blessed"]:
            failures.append(f"{TASK}: not blessed ({run['gate']['reason']})")
        if not made["same"]:
            failures.append(f"{TASK}: the generator made other bytes than the run's data")
    print(f"{TASK}: {run.get('value')} blessed {run.get('blessed')}", file=sys.stderr)
    section = render(run, refs, made, spec, failures)
    write_section(args.out, BEGIN, END, section)
    print(section)
    if failures:
        sys.exit("bench_speech failed:\n" + "\n".join(f"  {f}" for f in failures))


if __name__ == "__main__":
    main()
