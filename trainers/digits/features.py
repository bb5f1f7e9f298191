"""Digits features, declared as data (must match schemas/digits/schema.pbtxt)."""

IMAGE = "pixels"  # raw float feature: an 8x8 image, row by row
LABEL = "label"  # raw int feature: the digit 0..9
HEIGHT = WIDTH = 8  # scikit-learn's digits are 8x8
CLASSES = tuple(range(10))
