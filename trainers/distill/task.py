"""The distill task: a tiny MLP student of the pushed cnn_vgg teacher."""

from trainers.digits.declaration import digits_task

TASK = digits_task(
    "distill",
    "trainers.distill",
    "scikit-learn digits (1797 8x8 images): tiny MLP student of the pushed cnn_vgg teacher",
    threshold=0.95,
    source_task="cnn_vgg",
)
