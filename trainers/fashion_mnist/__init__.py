"""Fashion-MNIST: the real 28x28 clothing images, read from local IDX files."""
