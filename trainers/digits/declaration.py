"""What every task on scikit-learn's digits shares: data, label, metric and curated schema."""

from trainers.digits.features import LABEL
from trainers.spec import TFRECORD, TaskSpec

DATASET = "scikit-learn digits (1797 8x8 images, 10 classes, offline)"


def digits_task(name: str, trainer: str, dataset: str, threshold: float, **fields) -> TaskSpec:
    """A supervised task on the digits TFRecords, with the shared digits Transform."""
    return TaskSpec(
        name=name,
        kind="supervised",
        trainer=trainer,
        data="trainers.digits.data",
        data_format=TFRECORD,
        preprocessing="trainers.digits.preprocessing",
        dataset=dataset,
        label=LABEL,
        problem="classification",
        metric="accuracy",
        threshold=threshold,
        schema="digits/schema.pbtxt",
        **fields,
    )
