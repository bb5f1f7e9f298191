"""The fashion_mlp task: the course's Sequential classifier on Fashion-MNIST."""

from trainers.fashion_mnist.declaration import DATASET, EPOCH, fashion_task

TASK = fashion_task(
    "fashion_mlp",
    "trainers.fashion_mlp",
    f"{DATASET}: Sequential MLP 300-100",
    threshold=0.88,
    reason="MLPs reach 0.88-0.90 here; LogisticRegression on the pixels: 0.8420 (make bench)",
    train_steps=20 * EPOCH,
    hparams={"steps_per_epoch": EPOCH, "patience": 20, "lr_schedule": "one_cycle"},
)
