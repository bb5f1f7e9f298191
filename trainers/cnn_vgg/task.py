"""cnn_vgg (Fashion-MNIST), cnn_vgg_digits, and cnn_digits04 (digits 0-4, a backbone)."""

from trainers.digits.declaration import DATASET as DIGITS
from trainers.digits.declaration import digits_task
from trainers.fashion_mnist.declaration import DATASET, EPOCH, fashion_task

TASKS = (
    fashion_task(
        "cnn_vgg",
        "trainers.cnn_vgg",
        f"{DATASET}: VGG-like CNN",
        threshold=0.91,
        reason="small CNNs reach 0.91-0.93 here, above the MLP's 0.88 gate (make bench)",
        train_steps=12 * EPOCH,
        # A pass per epoch, one-cycle learning rate, no augmentation (12 epochs).
        hparams={
            "batch_size": 128,
            "learning_rate": 2e-3,
            "lr_schedule": "one_cycle",
            "steps_per_epoch": EPOCH,
            "patience": 12,
            "translate": 0.0,
            "rotate": 0.0,
            "zoom": 0.0,
        },
    ),
    digits_task(
        "cnn_vgg_digits",
        "trainers.cnn_vgg",
        f"{DIGITS}: VGG-like CNN",
        threshold=0.98,
        reason="a CNN must beat the MLP's 0.96 bar; LogisticRegression on the pixels: 0.937",
    ),
    digits_task(
        "cnn_digits04",
        "trainers.cnn_vgg",  # the cnn_vgg model; `transfer_digits` reuses its backbone
        "scikit-learn digits 0-4 only (901 8x8 images): VGG-like CNN, a backbone",
        threshold=0.985,
        reason="LogisticRegression on the raw pixels reaches 0.985 on digits 0-4 (make bench)",
        data_options={"classes": [0, 1, 2, 3, 4]},
    ),
)
