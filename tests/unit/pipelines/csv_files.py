"""CSV files for the registry, own-CSV and spans tests."""

import pandas as pd

from pipelines import spans


def write_csv(path, frame):
    frame.to_csv(path, index=False)
    return path


def strings_csv(tmp_path, n=20, name="flowers.csv"):
    labels = ["a"] * (n * 6 // 10) + ["b"] * (n - n * 6 // 10)
    frame = pd.DataFrame({"x": range(n), "size class": ["s", "l"] * (n // 2), "kind": labels})
    return write_csv(tmp_path / name, frame)


def newest_span(home, name):
    root = home.data_dir(name)
    return root / f"span-{spans.spans(root)[-1]}" / "data.csv"
