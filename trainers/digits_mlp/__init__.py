"""Digits 0-9 from 8x8 images: the course's Sequential MLP on flattened pixels."""
