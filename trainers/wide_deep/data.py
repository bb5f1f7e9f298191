"""The offline car data: vega_datasets' bundled cars.json, written once into the home.

The course's wide & deep example uses California housing, which scikit-learn downloads on
first use; no installed package ships it, so this task uses the 406 cars that vega_datasets
bundles (fuel economy from engine size, power, weight, model year and origin; 1970–1982).
"""

from __future__ import annotations

from pathlib import Path

from trainers.wide_deep.features import COLUMNS, LABEL


def write(dest_dir: Path) -> Path:
    """Writes `data.csv` into `dest_dir` and returns its path.

    The 8 cars without a fuel economy are left out (nothing to learn from); the 6 without
    horsepower are kept and imputed by Transform. `Year` becomes the model year (1970...).
    """
    from vega_datasets import data

    frame = data.cars()
    frame["Year"] = frame["Year"].dt.year
    frame = frame[list(COLUMNS)].dropna(subset=[LABEL])
    dest = Path(dest_dir) / "data.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(dest, index=False)
    return dest
