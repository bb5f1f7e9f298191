"""What every task on Fashion-MNIST shares: data, given splits, label, metric and schema."""

from trainers.fashion_mnist.features import LABEL
from trainers.spec import TFRECORD, TaskSpec

DATASET = "Fashion-MNIST (60,000 + 10,000 real 28x28 images, 10 classes, Debian package)"
SKLEARN_REFERENCE = "LogisticRegression on the pixels"
EPOCH = 430  # steps of one pass over the 55,000 training images at batch 128


def fashion_task(name: str, trainer: str, dataset: str, threshold: float, **fields) -> TaskSpec:
    """A supervised task on the Fashion-MNIST TFRecords; the official test set is `test`."""
    return TaskSpec(
        name=name,
        kind="supervised",
        trainer=trainer,
        data="trainers.fashion_mnist.data",
        data_format=TFRECORD,
        given_splits=True,
        preprocessing="trainers.fashion_mnist.preprocessing",
        dataset=dataset,
        label=LABEL,
        problem="classification",
        metric="accuracy",
        threshold=threshold,
        schema="fashion_mnist/schema.pbtxt",
        **fields,
    )
