"""speech_transformer: spoken-digit recognition with a transformer encoder on log-mel frames."""
