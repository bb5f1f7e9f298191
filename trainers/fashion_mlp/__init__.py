"""The course's Sequential classifier on Fashion-MNIST."""
