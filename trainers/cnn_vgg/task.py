"""The cnn_vgg task, and cnn_digits04: the same model on digits 0-4, a backbone for transfer."""

from trainers.digits.declaration import DATASET, digits_task

TASKS = (
    digits_task(
        "cnn_vgg",
        "trainers.cnn_vgg",
        f"{DATASET}: VGG-like CNN",
        threshold=0.98,
        reason="a CNN must beat the MLP's 0.96 bar; LogisticRegression on the pixels: 0.937",
    ),
    digits_task(
        "cnn_digits04",
        "trainers.cnn_vgg",  # the cnn_vgg model; `transfer` reuses its backbone
        "scikit-learn digits 0-4 only (901 8x8 images): VGG-like CNN, a backbone",
        threshold=0.985,
        reason="LogisticRegression on the raw pixels reaches 0.985 on digits 0-4 (make bench)",
        data_options={"classes": [0, 1, 2, 3, 4]},
    ),
)
