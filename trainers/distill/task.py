"""The distill task: a small MLP student of the pushed cnn_vgg teacher, on Fashion-MNIST."""

from trainers.fashion_mnist.declaration import DATASET, EPOCH, fashion_task

TASK = fashion_task(
    "distill",
    "trainers.distill",
    f"{DATASET}: small MLP student of the pushed cnn_vgg teacher",
    threshold=0.877,
    reason="the same student on the labels alone reaches 0.8767 (alpha=1, 3 seeds, make bench)",
    source_task="cnn_vgg",
    train_steps=8 * EPOCH,
    hparams={"batch_size": 128, "learning_rate": 1e-3, "units": 128, "steps_per_epoch": EPOCH},
)
