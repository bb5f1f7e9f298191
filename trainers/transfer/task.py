"""The transfer task: cnn_digits04's pushed backbone with a new head, on digits 5-9."""

from trainers.digits.declaration import digits_task

TASK = digits_task(
    "transfer",
    "trainers.transfer",
    "scikit-learn digits 5-9 only (896 8x8 images), a tenth of the train split: "
    "cnn_digits04's backbone, new head, frozen then fine-tuned",
    threshold=0.985,
    reason="the same network from scratch on the same 10% reaches 0.982 (3 seeds, make bench)",
    data_options={"classes": [5, 6, 7, 8, 9]},
    source_task="cnn_digits04",
)
