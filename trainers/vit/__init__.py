"""vit: a Vision Transformer on Fashion-MNIST."""
