"""The offline penguin data: palmerpenguins' bundled CSV, written once into the home."""

from __future__ import annotations

from pathlib import Path

from trainers.penguin.features import COLUMNS, NUMERIC


def write(dest_dir: Path) -> Path:
    """Writes `data.csv` (the model's columns) into `dest_dir` and returns its path.

    The two penguins with no measurement at all are left out: nothing can be learnt or
    predicted from them. Rows with some values missing (mostly `sex`) are kept; Transform
    imputes them.
    """
    import palmerpenguins

    frame = palmerpenguins.load_penguins()[list(COLUMNS)]
    frame = frame.dropna(subset=list(NUMERIC), how="all")
    dest = Path(dest_dir) / "data.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(dest, index=False)
    return dest
