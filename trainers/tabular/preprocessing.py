"""Transform for any CSV: every non-label column, typed by the inferred schema."""

from trainers.common import transforms


# TFX Transform calls this.
def preprocessing_fn(inputs, custom_config):
    """Strings → vocabulary ids, numbers → mean-imputed z-scores + missing flags."""
    return transforms.tabular(inputs, custom_config["label"], custom_config["problem"])
