"""Review features, declared as data: two inputs (text, price) and two labels (class, value)."""

TEXT = "review"
NUMERIC = ("price",)
CLASS = "sentiment"  # 'positive' / 'negative': the class output (and its label column)
VALUE = "rating"  # stars, 1–5: the value output (and its label column)
COLUMNS = (TEXT, *NUMERIC, CLASS, VALUE)
MAX_TOKENS = 16  # tokens kept per review (generated reviews have at most 14)
