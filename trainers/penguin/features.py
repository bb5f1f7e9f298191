"""Penguin features, declared as data (must match schemas/penguin/schema.pbtxt)."""

LABEL = "species"
NUMERIC = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g")
CATEGORICAL = ("island", "sex")
COLUMNS = (LABEL, *CATEGORICAL, *NUMERIC)
