"""Number features, declared as data (must match schemas/seq2seq/schema.pbtxt)."""

WORDS = "words"  # raw string feature: a number written out, e.g. 'forty two thousand seven'
LABEL = "digits"  # raw string feature: the same number in digits, e.g. '42007'
SOURCE_LENGTH = 12  # word tokens kept (the longest number below a million has 10)
DIGITS = "0123456789"  # target characters; their ids are their positions
EOS = len(DIGITS)  # id ending a decoded number (also fills the target after its end)
BOS = EOS + 1  # id the decoder starts from (never a target)
TARGET_IDS = EOS + 1  # ids the decoder predicts: the ten digits and EOS
TARGET_LENGTH = 7  # six digits and EOS
PAD = -1  # source token id after the number's last word
