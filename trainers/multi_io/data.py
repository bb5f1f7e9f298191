"""Generated product reviews (deterministic): text and price → sentiment class and rating.

A review is a product name, a few neutral words and one to three words from the positive or
the negative list, which decide its sentiment class (20% also carry one word of the other
kind: "great ... flimsy"). 3% of the sentiment labels are flipped, so no model reaches 100%
accuracy. The rating is 3 ± (0.4 + 0.4 × sentiment words) − 0.6 × log(price / 40) plus
noise (σ 0.3), clipped to 1–5: the value needs both inputs. 2% of prices are missing
(Transform imputes them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from trainers.multi_io.features import CLASS, COLUMNS, NUMERIC, TEXT, VALUE

ROWS = 1500  # enough for a 1000/500 train/eval split of a 70-word vocabulary
SEED = 20261130  # fixed: the same reviews on every machine
POSITIVE = (
    "great", "excellent", "love", "perfect", "sturdy",
    "comfortable", "reliable", "fantastic", "happy", "recommend",
)  # fmt: skip
NEGATIVE = (
    "broken", "terrible", "awful", "flimsy", "disappointed",
    "useless", "noisy", "returned", "poor", "waste",
)  # fmt: skip
NEUTRAL = (
    "the", "this", "it", "arrived", "box", "color", "size", "works", "after", "week",
    "month", "use", "bought", "for", "my", "kitchen", "office", "was", "is", "and", "with",
)  # fmt: skip
PRODUCTS = (
    "blender", "lamp", "backpack", "kettle", "headphones",
    "chair", "toaster", "jacket", "drill", "mug",
)  # fmt: skip
LABEL_NOISE = 0.03  # share of flipped sentiment labels
MIXED = 0.2  # share of reviews with one word of the opposite sentiment
MISSING_PRICE = 0.02  # share of empty price cells
RATING_NOISE = 0.3  # σ of the rating's noise, in stars


def reviews(rows: int = ROWS, seed: int = SEED) -> list[dict]:
    """`rows` generated reviews: {review, price, sentiment, rating}; same seed, same rows."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(rows):
        positive = bool(rng.random() < 0.5)
        strength = int(rng.integers(1, 4))
        words = [str(rng.choice(PRODUCTS))]
        words += [str(w) for w in rng.choice(NEUTRAL, size=int(rng.integers(3, 9)))]
        words += [str(w) for w in rng.choice(POSITIVE if positive else NEGATIVE, size=strength)]
        if rng.random() < MIXED:
            words.append(str(rng.choice(NEGATIVE if positive else POSITIVE)))
        tail = words[1:]
        rng.shuffle(tail)
        words = words[:1] + tail
        price = float(np.round(np.exp(rng.normal(np.log(40.0), 0.6)), 2))
        polarity = 1.0 if positive else -1.0
        rating = 3.0 + polarity * (0.4 + 0.4 * strength) - 0.6 * np.log(price / 40.0)
        rating = float(np.clip(rating + rng.normal(0.0, RATING_NOISE), 1.0, 5.0).round(1))
        if rng.random() < LABEL_NOISE:
            positive = not positive
        found.append(
            {
                TEXT: " ".join(words),
                NUMERIC[0]: "" if rng.random() < MISSING_PRICE else price,
                CLASS: "positive" if positive else "negative",
                VALUE: rating,
            }
        )
    return found


def write(dest_dir: Path) -> Path:
    """Writes `data.csv` (the generated reviews) into `dest_dir` and returns its path."""
    dest = Path(dest_dir) / "data.csv"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        writer.writerows(reviews())
    return dest
