"""The seq2seq task: written-out numbers to digits, decoded greedily in the signature."""

from trainers.seq2seq.features import LABEL
from trainers.spec import TFRECORD, TaskSpec

EPOCH = 313  # steps of one pass over the 20,000 training pairs at batch 64

TASK = TaskSpec(
    name="seq2seq",
    kind="supervised",
    trainer="trainers.seq2seq",
    data="trainers.seq2seq.data",
    data_format=TFRECORD,
    given_splits=True,
    dataset="numbers 0-999,999 in words → digits (20,000 + 2,000 + 2,000 distinct): transformer",
    label=LABEL,
    problem="sequence",
    metric="exact_match",
    threshold=0.9,
    margin=0.05,
    reason="every test number is unseen in training; the majority answer matches none of them",
    schema="seq2seq/schema.pbtxt",
    train_steps=10 * EPOCH,
    hparams={"steps_per_epoch": EPOCH, "patience": 3, "lr_schedule": "one_cycle"},
)
