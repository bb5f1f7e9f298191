"""Penguin Transform: z-scored measurements (mean-imputed), vocabularies for island and sex."""

from trainers.common import transforms
from trainers.penguin.features import CATEGORICAL, LABEL, NUMERIC


# TFX Transform calls this.
def preprocessing_fn(inputs):
    """Raw penguin features → model inputs and the species id."""
    return transforms.tabular(inputs, LABEL, "classification", features=NUMERIC + CATEGORICAL)
