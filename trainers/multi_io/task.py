"""The multi_io task: review text and price in, sentiment class and star rating out."""

from trainers.multi_io.features import CLASS, VALUE
from trainers.spec import Output, multi_output

TASK = multi_output(
    name="multi_io",
    kind="supervised",
    trainer="trainers.multi_io",
    data="trainers.multi_io.data",
    dataset="generated product reviews (1500: text + price → sentiment + rating)",
    outputs=(
        Output(
            CLASS,
            CLASS,
            "classification",
            "accuracy",
            threshold=0.9,
            reason="the majority class is 0.45; 0.9 means the text is read",
        ),
        Output(
            VALUE,
            VALUE,
            "regression",
            "rmse",
            threshold=0.55,
            reason="the text alone reaches 0.60 (use_price=false, make bench): it needs the price",
        ),
    ),
    schema="multi_io/schema.pbtxt",
    train_steps=1000,
)
