"""The vit task: a Vision Transformer on Fashion-MNIST."""

from trainers.fashion_mnist.declaration import DATASET, EPOCH, fashion_task

TASK = fashion_task(
    "vit",
    "trainers.vit",
    f"{DATASET}: Vision Transformer (4x4 patches, 4 blocks)",
    threshold=0.88,
    reason="MLPs reach 0.88-0.90 here, small CNNs 0.91-0.93; a small ViT must match the MLP",
    train_steps=15 * EPOCH,
    hparams={
        "steps_per_epoch": EPOCH,
        "patience": 15,
        "lr_schedule": "one_cycle",
        "translate": 0.0,
        "rotate": 0.0,
        "zoom": 0.0,
        "flip": True,
    },
)
