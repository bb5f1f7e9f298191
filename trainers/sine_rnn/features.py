"""sine_rnn's window length (schemas/sine_rnn/schema.pbtxt says the same)."""

LENGTH = 24  # past values per window: more than half of the longest period
