"""text_transformer: review sentiment with a transformer encoder trained from scratch."""
