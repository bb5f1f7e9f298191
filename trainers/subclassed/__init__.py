"""Digits with the Subclassing API: custom layer, GradientTape loop, TensorBoard hook."""
