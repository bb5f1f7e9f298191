"""Palmer penguins species classification: the course's Sequential MLP."""
