"""The distill task: a tiny MLP student of the pushed cnn_vgg teacher."""

from trainers.digits.declaration import digits_task

TASK = digits_task(
    "distill",
    "trainers.distill",
    "scikit-learn digits (1797 8x8 images): tiny MLP student of the pushed cnn_vgg teacher",
    threshold=0.965,
    reason="the same student on the labels alone reaches 0.962 (alpha=1, 3 seeds, make bench)",
    source_task="cnn_vgg",
)
