"""Digits with a VGG-like CNN: stacked 3x3 convolutions and max-pooling, with augmentation."""
