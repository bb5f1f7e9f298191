"""seq2seq: an encoder-decoder transformer that reads written-out numbers and writes digits."""
