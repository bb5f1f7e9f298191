"""Where the penguin schema's drift thresholds come from: the noise between random halves.

The penguin data is split into two random halves `--splits` times; each split's distances
(TFDV's L-infinity for categorical features, Jensen–Shannon divergence for numeric ones,
the comparators DriftCheck uses) are the noise a new span of unchanged penguins shows.
Then one half is shifted on purpose (body mass, a bill measure, the island mix) to show what
the thresholds in `schemas/penguin/schema.pbtxt` catch. Writes its BENCHMARKS.md section.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from report import write_section  # tests/bench, the script's folder

BEGIN, END = "<!-- bench:drift:begin -->", "<!-- bench:drift:end -->"
SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "penguin" / "schema.pbtxt"


def distances(schema, current, previous) -> dict[str, float]:
    """{feature: distance} between two DataFrames with every comparator's threshold at 0."""
    import tensorflow_data_validation as tfdv

    stats = [tfdv.generate_statistics_from_dataframe(f) for f in (current, previous)]
    found = tfdv.validate_statistics(stats[0], schema, previous_statistics=stats[1])
    return {".".join(i.path.step): i.drift_measurements[0].value for i in found.drift_skew_info}


def main() -> None:
    """Measures the noise and the shifts; writes the section."""
    import numpy as np
    import pandas as pd
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    parser.add_argument("--splits", type=int, default=10)
    args = parser.parse_args()

    schema = text_format.Parse(SCHEMA.read_text(), schema_pb2.Schema())
    thresholds = {}
    for feature in schema.feature:
        comparator = feature.drift_comparator
        kind = None
        for name in ("infinity_norm", "jensen_shannon_divergence"):
            if comparator.HasField(name):
                kind = name
                thresholds[feature.name] = (name, getattr(comparator, name).threshold)
                getattr(comparator, name).threshold = 0.0  # measure every feature
        assert kind is not None, f"{feature.name}: no drift comparator in {SCHEMA}"
    folder = Path(tempfile.mkdtemp())
    importlib.import_module("trainers.penguin.data").write(folder)
    frame = pd.read_csv(next(folder.glob("*.csv")))
    rng = np.random.default_rng(0)
    noise = []
    for _ in range(args.splits):
        order = rng.permutation(len(frame))
        half = len(frame) // 2
        noise.append(distances(schema, frame.iloc[order[:half]], frame.iloc[order[half:]]))
    noise = pd.DataFrame(noise)
    order = rng.permutation(len(frame))
    base, other = frame.iloc[order[: len(frame) // 2]], frame.iloc[order[len(frame) // 2 :]]
    shifts = {
        "body_mass_g + 800 g (1 sd)": (
            "body_mass_g",
            lambda f: f.assign(body_mass_g=f.body_mass_g + 800),
        ),
        "bill_length_mm × 1.1": (
            "bill_length_mm",
            lambda f: f.assign(bill_length_mm=f.bill_length_mm * 1.1),
        ),
        "a third of the birds moved to Dream": (
            "island",
            lambda f: f.assign(
                island=["Dream" if i % 3 == 0 else v for i, v in enumerate(f.island)]
            ),
        ),
    }
    rows = [
        "| feature | comparator | threshold | noise mean | noise max | threshold / max |",
        "|---|---|---|---|---|---|",
    ]
    for name, (kind, threshold) in thresholds.items():
        mean, high = noise[name].mean(), noise[name].max()
        ratio = threshold / high
        rows.append(f"| {name} | {kind} | {threshold:g} | {mean:.3f} | {high:.3f} | {ratio:.1f} |")
    shifted = [
        "| change to one half | feature | distance | threshold | caught |",
        "|---|---|---|---|---|",
    ]
    for label, (feature, change) in shifts.items():
        value = distances(schema, change(base.copy()), other)[feature]
        threshold = thresholds[feature][1]
        shifted.append(
            f"| {label} | {feature} | {value:.3f} | {threshold:g} | "
            f"{'yes' if value > threshold else 'no'} |"
        )
    section = "\n".join(
        [
            BEGIN,
            "## Drift thresholds (penguin)",
            "",
            f"`tests/bench/bench_drift.py`: {args.splits} random halves of the {len(frame)} "
            "penguins, each compared with the other half by the comparators DriftCheck uses "
            "(TFDV `validate_statistics` with `previous_statistics`). The noise is what a new "
            "span of unchanged penguins shows; the thresholds are in "
            "`schemas/penguin/schema.pbtxt`.",
            "",
            *rows,
            "",
            "The same comparison after changing one half on purpose:",
            "",
            *shifted,
            END,
        ]
    )
    write_section(args.out, BEGIN, END, section + "\n")
    print(section)


if __name__ == "__main__":
    main()
