"""The digits_mlp task: Sequential MLP on the digits."""

from trainers.digits.declaration import DATASET, digits_task

TASK = digits_task(
    "digits_mlp",
    "trainers.digits_mlp",
    f"{DATASET}: Sequential MLP",
    threshold=0.96,
    reason="LogisticRegression on the raw pixels reaches 0.937 on this test split (make bench)",
)
