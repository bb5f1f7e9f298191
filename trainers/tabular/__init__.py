"""Bring-your-own CSV: a model built from whatever schema the data has."""
