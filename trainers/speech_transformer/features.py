"""Spoken-digit features, declared as data (must match schemas/speech_transformer/schema.pbtxt)."""

WAVEFORM = "waveform"  # raw float feature: one second of 8 kHz mono audio in [-1, 1]
LABEL = "digit"  # raw string feature: the spoken word, 'zero' .. 'nine'
RATE = 8000  # samples per second
SAMPLES = RATE  # one second per clip: the slowest speaker's longest digit fits
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
