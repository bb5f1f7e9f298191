"""The subclassed task: a subclassed model trained by a GradientTape loop, on the digits."""

from trainers.digits.declaration import DATASET, digits_task

TASK = digits_task(
    "subclassed",
    "trainers.subclassed",
    f"{DATASET}: subclassed model, GradientTape loop",
    threshold=0.96,
    reason="LogisticRegression on the raw pixels reaches 0.937 on this test split (make bench)",
)
