"""distill uses the shared digits Transform."""

from trainers.digits.preprocessing import preprocessing_fn

__all__ = ["preprocessing_fn"]
