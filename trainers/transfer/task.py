"""The transfer task: cnn_digits04's pushed backbone with a new head, on digits 5-9."""

from trainers.digits.declaration import digits_task

TASK = digits_task(
    "transfer",
    "trainers.transfer",
    "scikit-learn digits 5-9 only (896 8x8 images): cnn_digits04's backbone, new head, "
    "frozen then fine-tuned",
    threshold=0.95,
    data_options={"classes": [5, 6, 7, 8, 9]},
    source_task="cnn_digits04",
)
