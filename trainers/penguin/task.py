"""The penguin task: species from the Palmer penguins' measurements."""

from trainers.penguin.features import LABEL
from trainers.spec import TaskSpec

TASK = TaskSpec(
    name="penguin",
    kind="supervised",
    trainer="trainers.penguin",
    data="trainers.penguin.data",
    dataset="palmerpenguins (342 penguins, 3 species, offline)",
    label=LABEL,
    problem="classification",
    metric="accuracy",
    threshold=0.97,
    reason="at most one mistake on the ~46 test penguins (majority class: 0.50)",
    schema="penguin/schema.pbtxt",
    train_steps=1000,
)
