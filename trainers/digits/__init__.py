"""Shared by the digits image tasks: the offline 8x8 digits as tf.Examples, and their Transform."""
