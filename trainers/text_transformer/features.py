"""Review features, declared as data (must match schemas/text_transformer/schema.pbtxt)."""

REVIEW = "review"  # raw string feature: the review's text
LABEL = "score"  # raw string feature: 'great' or 'other'
LENGTH = 128  # tokens kept per review (three in four reviews are shorter)
VOCABULARY = 10000  # most frequent training tokens; the rest share one OOV id
PAD = -1  # token id of the positions after a review's end
