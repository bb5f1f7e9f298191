"""Digits with a ResNet-like CNN: residual blocks with identity shortcuts, with augmentation."""
