"""Transform for any CSV: every non-label column, typed by the inferred schema."""

from trainers.common import transforms
from trainers.contract import TrainerConfig


# TFX Transform calls this.
def preprocessing_fn(inputs, custom_config):
    """Strings → vocabulary ids, numbers → mean-imputed z-scores + missing flags."""
    config = TrainerConfig.from_custom_config(custom_config)
    return transforms.tabular(inputs, config.label, config.problem)
